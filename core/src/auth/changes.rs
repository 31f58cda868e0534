//! Telling every API process that access changed: a session ended, or a member's role, unit
//! or active flag changed. Each process forgets what it remembered of those sessions
//! (`auth::cache`): this one at once, the others when the pub/sub event reaches their live hub.

use crate::Core;
use crate::ports::Event;

/// A session ended (logout, reuse of a refresh token): forgotten here at once and, through the
/// pub/sub, in every other API process.
pub async fn session_ended(core: &Core, sid: &str) {
    core.sessions.forget_session(sid);
    publish(
        core,
        Event::SessionEnded {
            session_id: sid.to_string(),
        },
    )
    .await;
}

/// Members per event: an import that moves a whole unit publishes a few events, not one per
/// member.
const MEMBERS_PER_EVENT: usize = 5_000;

/// Members' role, unit or active flag changed: their sessions are checked again everywhere.
pub async fn members_changed(core: &Core, member_ids: &[i64]) {
    if member_ids.is_empty() {
        return;
    }
    core.sessions
        .forget_members(&member_ids.iter().copied().collect());
    for chunk in member_ids.chunks(MEMBERS_PER_EVENT) {
        publish(
            core,
            Event::MembersChanged {
                member_ids: chunk.to_vec(),
            },
        )
        .await;
    }
}

async fn publish(core: &Core, event: Event) {
    if let Err(e) = core.pubsub.publish(&event).await {
        tracing::warn!(
            pubsub = core.pubsub.name(),
            error = %e,
            "an access change was not published; other API processes see it within 2 s"
        );
    }
}
