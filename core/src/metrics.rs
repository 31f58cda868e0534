//! What the services count and time, through the `metrics` facade (the binary installs the
//! Prometheus recorder; with none installed every call is a no-op). The names are here, in one
//! place; docs/operations.md says what each means and which alert to set on it.
//!
//! Counters and histograms are recorded where things happen. The gauges that describe shared
//! state (the queue in the database, the connection pool) are read when `/metrics` is scraped
//! ([`observe`]), so any process gives the same answer and nothing polls in between.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::Core;
use crate::broadcasts::Status;
use crate::entities::{broadcasts, push_deliveries};
use crate::error::CoreResult;
use crate::push::DeliveryStatus;

pub const HTTP_REQUESTS: &str = "fingertip_http_requests_total";
pub const HTTP_DURATION: &str = "fingertip_http_request_duration_seconds";
pub const FANOUT_ROWS: &str = "fingertip_fanout_rows_total";
pub const FANOUT_BATCH_DURATION: &str = "fingertip_fanout_batch_duration_seconds";
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

/// One worker pass: `worker` is `fanout` or `push`.
pub fn worker_pass(worker: &'static str, seconds: f64, failed: bool) {
    metrics::counter!(WORKER_PASSES, "worker" => worker).increment(1);
    metrics::histogram!(WORKER_PASS_DURATION, "worker" => worker).record(seconds);
    if failed {
        metrics::counter!(WORKER_ERRORS, "worker" => worker).increment(1);
    }
}

fn age(now: DateTime<Utc>, since: Option<DateTime<Utc>>) -> f64 {
    since.map_or(0.0, |t| {
        std::cmp::Ord::max((now - t).num_milliseconds(), 0) as f64 / 1000.0
    })
}

/// Reads the shared state into gauges, right before a scrape: broadcasts due or being fanned
/// out and how long the oldest has been due, pushes waiting and how long the oldest has been
/// due, and the connection pool.
pub async fn observe(core: &Core) -> CoreResult<()> {
    let now = core.now();
    let due = broadcasts::Entity::find()
        .filter(broadcasts::Column::Status.eq(Status::Scheduled))
        .filter(broadcasts::Column::NextRunAt.lte(now))
        .count(&core.db)
        .await?;
    let sending = broadcasts::Entity::find()
        .filter(broadcasts::Column::Status.eq(Status::Sending))
        .count(&core.db)
        .await?;
    metrics::gauge!(QUEUE_BROADCASTS, "state" => "due").set(due as f64);
    metrics::gauge!(QUEUE_BROADCASTS, "state" => "sending").set(sending as f64);
    let oldest: Option<DateTime<Utc>> = broadcasts::Entity::find()
        .select_only()
        .column_as(Expr::col(broadcasts::Column::NextRunAt).min(), "m")
        .filter(broadcasts::Column::Status.is_in([Status::Scheduled, Status::Sending]))
        .filter(broadcasts::Column::NextRunAt.lte(now))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&core.db)
        .await?
        .flatten();
    metrics::gauge!(QUEUE_OLDEST_DUE).set(age(now, oldest));

    let pending = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .filter(push_deliveries::Column::NextAttemptAt.lte(now))
        .count(&core.db)
        .await?;
    let in_flight = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Sending))
        .count(&core.db)
        .await?;
    metrics::gauge!(QUEUE_PUSHES, "state" => "due").set(pending as f64);
    metrics::gauge!(QUEUE_PUSHES, "state" => "sending").set(in_flight as f64);
    let oldest_push: Option<DateTime<Utc>> = push_deliveries::Entity::find()
        .select_only()
        .column_as(Expr::col(push_deliveries::Column::NextAttemptAt).min(), "m")
        .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .filter(push_deliveries::Column::NextAttemptAt.lte(now))
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(&core.db)
        .await?
        .flatten();
    metrics::gauge!(QUEUE_OLDEST_PUSH).set(age(now, oldest_push));

    let (size, idle) = match core.db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let p = core.db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let p = core.db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => (0, 0),
    };
    let idle = idle as f64;
    metrics::gauge!(DB_POOL, "state" => "idle").set(idle);
    metrics::gauge!(DB_POOL, "state" => "in_use").set((f64::from(size) - idle).max(0.0));
    Ok(())
}
