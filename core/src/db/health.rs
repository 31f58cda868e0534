//! The process's view of whether the database answers: a small circuit breaker.
//!
//! While it is up, nothing changes. A request or a worker that meets an outage error
//! ([`super::unavailable`]) calls [`DbHealth::suspect`], which wakes the probe at once; the
//! probe (`SELECT 1` on a connection of its own, so that a busy pool is not taken for a dead
//! database) then decides: two failed probes in a row turn it down. While it is down, the API
//! refuses requests that need the database at once with 503 instead of letting each wait out
//! the pool's acquire timeout, and the workers wait on [`DbHealth::wait_up`]. The probe runs
//! every [`PROBE_UP`] while up and every [`PROBE_DOWN`] while down, so traffic returns within
//! about half a second of the database.
//!
//! Written here rather than taken from a circuit-breaker crate: the crates on the registry
//! (failsafe, recloser) open on error rates over calls, and would open on a burst of slow
//! statements or a busy pool; what is wanted is "the database answers a fresh probe", which
//! is this file's forty lines of state and the probe loop.
//!
//! Every change is logged once (a warning when it goes down, with the cause; an info line with
//! the length of the outage when it comes back) and shown by the `fingertip_db_up` gauge.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use tokio::sync::{Notify, watch};

use crate::metrics;

/// How often the probe runs while the database answers.
pub const PROBE_UP: Duration = Duration::from_secs(5);
/// How often the probe runs while it does not.
pub const PROBE_DOWN: Duration = Duration::from_millis(500);
/// Longest the probe waits for its `SELECT 1`, connecting included.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Least time between two probes, however often a request suspects an outage.
const PROBE_SPACING: Duration = Duration::from_millis(200);
/// Failed probes in a row that turn the health down.
const FAILURES_TO_DOWN: u32 = 2;
/// What `Retry-After` says when the database is unavailable.
pub const RETRY_AFTER_SECS: u64 = 2;

pub struct DbHealth {
    up: AtomicBool,
    state: watch::Sender<bool>,
    down_since: Mutex<Option<Instant>>,
    suspect: Notify,
}

impl Default for DbHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl DbHealth {
    /// Up, until told otherwise.
    pub fn new() -> Self {
        metrics::db_up(true);
        Self {
            up: AtomicBool::new(true),
            state: watch::Sender::new(true),
            down_since: Mutex::new(None),
            suspect: Notify::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// How long the database has been down, when it is.
    pub fn down_for(&self) -> Option<Duration> {
        self.down_since
            .lock()
            .ok()
            .and_then(|g| g.map(|t| t.elapsed()))
    }

    /// A request or a worker met an outage error: the probe checks now rather than at its next
    /// tick. Without a probe running, nothing changes.
    pub fn suspect(&self) {
        self.suspect.notify_one();
    }

    /// The probe failed: down from now, if it was up (logged once).
    pub fn failed(&self, cause: &str) {
        if self.up.swap(false, Ordering::AcqRel) {
            if let Ok(mut g) = self.down_since.lock() {
                *g = Some(Instant::now());
            }
            metrics::db_up(false);
            tracing::warn!(
                cause,
                "database unavailable: requests that need it answer 503 and the workers wait until it answers again"
            );
            self.state.send_replace(false);
        }
    }

    /// The probe succeeded: up from now, if it was down (logged once, with how long it was).
    pub fn recovered(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            let down = self
                .down_since
                .lock()
                .ok()
                .and_then(|mut g| g.take())
                .map_or(0.0, |t| t.elapsed().as_secs_f64());
            metrics::db_up(true);
            tracing::info!(down_secs = down, "database answers again");
            self.state.send_replace(true);
        }
    }

    /// Returns once the database is up (at once if it is).
    pub async fn wait_up(&self) {
        let mut rx = self.state.subscribe();
        let _ = rx.wait_for(|up| *up).await;
    }

    /// Waits at most `within` for the health to turn down; whether it is still up then. What a
    /// worker asks after it met an outage error and suspected one: a busy pool (still up) is
    /// retried as usual, a dead database (down) is waited out.
    pub async fn confirm_down(&self, within: Duration) -> bool {
        let mut rx = self.state.subscribe();
        let down = tokio::time::timeout(within, rx.wait_for(|up| !*up)).await;
        matches!(down, Ok(Ok(_)))
    }
}

/// The probe's own pool: one connection, kept open (so a database that refuses new
/// connections while it still serves the pool's is not called down), tested before each use
/// and reopened when the server closed it (a restart, a failover to a new primary behind the
/// same name).
pub async fn probe_pool(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut o = ConnectOptions::new(url.to_string());
    o.sqlx_logging(false)
        .max_connections(1)
        .min_connections(0)
        .connect_timeout(PROBE_TIMEOUT)
        .acquire_timeout(PROBE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(true)
        .connect_lazy(true);
    // Lazy: nothing is opened here, so a database that is down at start-up is no error.
    Database::connect(o).await
}

/// Runs the probe until `health` is dropped: `SELECT 1` on `db` every [`PROBE_UP`] while up,
/// every [`PROBE_DOWN`] while down, and at once after [`DbHealth::suspect`].
pub async fn probe(db: DatabaseConnection, health: Weak<DbHealth>) {
    let mut failures = 0u32;
    loop {
        {
            let Some(h) = health.upgrade() else { return };
            let tick = if h.is_up() { PROBE_UP } else { PROBE_DOWN };
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = h.suspect.notified() => {}
            }
        }
        let answer = tokio::time::timeout(PROBE_TIMEOUT, super::ping(&db)).await;
        let Some(h) = health.upgrade() else { return };
        let cause = match answer {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("no answer to SELECT 1 within a second".to_string()),
        };
        match cause {
            None => {
                failures = 0;
                h.recovered();
            }
            // Down only after two failed probes in a row: one slow answer from a busy but
            // live database does not shut all traffic out.
            Some(cause) => {
                failures += 1;
                if failures >= FAILURES_TO_DOWN {
                    h.failed(&cause);
                } else {
                    h.suspect();
                }
            }
        }
        drop(h);
        tokio::time::sleep(PROBE_SPACING).await;
    }
}

/// Starts [`probe`] on the current runtime for `health`, with a pool of its own on `url`.
pub async fn spawn_probe(url: &str, health: &Arc<DbHealth>) -> Result<(), sea_orm::DbErr> {
    let db = probe_pool(url).await?;
    tokio::spawn(probe(db, Arc::downgrade(health)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn down_and_up_again_are_seen_by_waiters() {
        let h = Arc::new(DbHealth::new());
        assert!(h.is_up());
        h.wait_up().await;
        assert!(!h.confirm_down(Duration::from_millis(10)).await);

        let waiting = {
            let h = h.clone();
            tokio::spawn(async move { h.confirm_down(Duration::from_secs(5)).await })
        };
        tokio::task::yield_now().await;
        h.failed("connection refused");
        assert!(waiting.await.unwrap(), "a waiter hears that it went down");
        assert!(!h.is_up());
        assert!(h.down_for().is_some());
        h.failed("again: nothing changes");

        let back = {
            let h = h.clone();
            tokio::spawn(async move { h.wait_up().await })
        };
        h.recovered();
        back.await.unwrap();
        assert!(h.is_up());
        assert!(h.down_for().is_none());
    }

    #[tokio::test]
    async fn the_probe_finds_a_database_that_answers_and_one_that_does_not() {
        let h = Arc::new(DbHealth::new());
        h.failed("test");
        let db = probe_pool("sqlite::memory:").await.unwrap();
        let task = tokio::spawn(probe(db, Arc::downgrade(&h)));
        h.suspect();
        tokio::time::timeout(Duration::from_secs(5), h.wait_up())
            .await
            .expect("the probe sees SQLite answer");

        // Nothing listens on port 9 of loopback: connection refused.
        let dead = probe_pool("postgres://nobody@127.0.0.1:9/none")
            .await
            .unwrap();
        let h2 = Arc::new(DbHealth::new());
        let task2 = tokio::spawn(probe(dead, Arc::downgrade(&h2)));
        h2.suspect();
        assert!(h2.confirm_down(Duration::from_secs(5)).await);
        task.abort();
        task2.abort();
    }
}
