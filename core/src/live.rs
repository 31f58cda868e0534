//! Live updates: what the services publish after a change that a member's open app should see
//! at once. Publishing is best effort by design: a failure is logged and the caller goes on,
//! because the database stays the truth and a client reads its inbox again when it reconnects.

use chrono::{DateTime, Utc};

use crate::Core;
use crate::entities::broadcasts;
use crate::ports::{DeliveredItems, Event};

/// After a fan-out batch committed: these members each got an item of this occurrence, of
/// its post, written at `created_at`; `written` holds each member with their item's id.
pub async fn delivered(
    core: &Core,
    b: &broadcasts::Model,
    created_at: DateTime<Utc>,
    written: &[(i64, i64)],
) {
    if written.is_empty() {
        return;
    }
    let (member_ids, ids) = written.iter().copied().unzip();
    publish(
        core,
        Event::InboxDelivered {
            broadcast_id: b.id,
            occurrence: b.occurrence,
            member_ids,
            items: Some(DeliveredItems {
                post_id: b.post_id,
                created_at,
                ids,
            }),
        },
    )
    .await;
}

/// After a member's unread count changed (a read, a read-all): the new count.
pub async fn unread_changed(core: &Core, member_id: i64, unread_count: u64) {
    publish(
        core,
        Event::UnreadChanged {
            member_id,
            unread_count,
        },
    )
    .await;
}

async fn publish(core: &Core, event: Event) {
    if let Err(e) = core.pubsub.publish(&event).await {
        tracing::warn!(
            pubsub = core.pubsub.name(),
            error = %e,
            "a live update was not published; clients catch up when they reconnect"
        );
    }
}
