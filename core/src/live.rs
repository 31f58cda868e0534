//! Live updates: what the services publish after a change that a member's open app should see
//! at once. Publishing is best effort by design: a failure is logged and the caller goes on,
//! because the database stays the truth and a client reads its inbox again when it reconnects.

use crate::Core;
use crate::ports::Event;

/// After a fan-out batch committed: these members each got an item of this occurrence.
pub async fn delivered(core: &Core, broadcast_id: i64, occurrence: i64, member_ids: &[i64]) {
    if member_ids.is_empty() {
        return;
    }
    publish(
        core,
        Event::InboxDelivered {
            broadcast_id,
            occurrence,
            member_ids: member_ids.to_vec(),
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
