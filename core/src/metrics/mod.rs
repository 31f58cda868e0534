//! What the services count and time, through the `metrics` facade (the binary installs the
//! Prometheus recorder; with none installed every call is a no-op). The names are here, in one
//! place; docs/operations.md says what each means and which alert to set on it.
//!
//! Counters and histograms are recorded where things happen. The gauges that describe shared
//! state (the queue in the database, the connection pool) are read when `/metrics` is scraped
//! ([`observe`]), so any process gives the same answer and nothing polls in between.

mod gauges;

pub use gauges::observe;

pub const HTTP_REQUESTS: &str = "fingertip_http_requests_total";
pub const HTTP_DURATION: &str = "fingertip_http_request_duration_seconds";
pub const FANOUT_ROWS: &str = "fingertip_fanout_rows_total";
pub const FANOUT_BATCH_DURATION: &str = "fingertip_fanout_batch_duration_seconds";
pub const UNREAD_FOLDED_ROWS: &str = "fingertip_unread_folded_rows_total";
pub const FANOUT_OCCURRENCES: &str = "fingertip_fanout_occurrences_total";
pub const WORKER_PASSES: &str = "fingertip_worker_passes_total";
pub const WORKER_PASS_DURATION: &str = "fingertip_worker_pass_duration_seconds";
pub const WORKER_ERRORS: &str = "fingertip_worker_errors_total";
pub const PUSH_SENDS: &str = "fingertip_push_sends_total";
pub const PUSH_RATE_WAIT: &str = "fingertip_push_rate_limit_wait_seconds";
pub const WS_CONNECTIONS: &str = "fingertip_ws_connections";
pub const QUEUE_BROADCASTS: &str = "fingertip_queue_broadcasts";
pub const QUEUE_OLDEST_DUE: &str = "fingertip_queue_oldest_due_seconds";
pub const QUEUE_PUSHES: &str = "fingertip_queue_pushes";
pub const QUEUE_OLDEST_PUSH: &str = "fingertip_queue_oldest_push_seconds";
pub const DB_POOL: &str = "fingertip_db_pool_connections";
pub const DB_UP: &str = "fingertip_db_up";
pub const DB_UNAVAILABLE: &str = "fingertip_db_unavailable_total";

/// One worker pass: `worker` is `fanout` or `push`.
pub fn worker_pass(worker: &'static str, seconds: f64, failed: bool) {
    metrics::counter!(WORKER_PASSES, "worker" => worker).increment(1);
    metrics::histogram!(WORKER_PASS_DURATION, "worker" => worker).record(seconds);
    if failed {
        metrics::counter!(WORKER_ERRORS, "worker" => worker).increment(1);
    }
}

/// The database health (see `db::health`): 1 while it answers, 0 while it does not.
pub fn db_up(up: bool) {
    metrics::gauge!(DB_UP).set(if up { 1.0 } else { 0.0 });
}

/// A request or worker pass that failed because the database could not answer: `kind` is
/// `outage` (unreachable, no connection in time), `slow` (statement timeout, lock) or
/// `refused` (answered 503 at once because the database was known to be down).
pub fn db_unavailable(kind: &'static str) {
    metrics::counter!(DB_UNAVAILABLE, "kind" => kind).increment(1);
}
