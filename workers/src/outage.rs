//! What a worker does when its pass failed because the database is down: tell the health
//! state, and if its probe confirms the outage, wait (without a log line per pass: the health
//! state logs the outage once, and its end) until the database answers again, then go on. No
//! restart is needed; the leases of the work in flight expire or are taken back as usual.

use std::time::Duration;

use fingertip_core::db::Unavailable;
use fingertip_core::{Core, CoreError};
use tokio_util::sync::CancellationToken;

/// How long to wait for the probe to confirm an outage (it answers within its one-second
/// timeout): an error the probe does not confirm (a pool busy for a moment) is retried as
/// any failed pass.
const CONFIRM_WITHIN: Duration = Duration::from_secs(3);

/// Whether `e` (from a pass) is the database being unreachable.
pub fn is_outage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<CoreError>()
            .is_some_and(CoreError::is_outage)
            || c.downcast_ref::<fingertip_core::db::DbErr>()
                .is_some_and(|d| fingertip_core::db::classify(d) == Some(Unavailable::Outage))
    })
}

/// After a pass failed with an outage error: returns once the database answers again (or at
/// `stop`), `true` if it was confirmed down; `false` at once-ish when the probe found it up.
pub async fn wait_for_database(core: &Core, stop: &CancellationToken) -> bool {
    fingertip_core::metrics::db_unavailable("outage");
    core.db_health.suspect();
    if !core.db_health.confirm_down(CONFIRM_WITHIN).await {
        return false;
    }
    tokio::select! {
        () = stop.cancelled() => {}
        () = core.db_health.wait_up() => {}
    }
    true
}
