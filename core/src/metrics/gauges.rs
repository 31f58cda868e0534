//! The gauges of shared state, read from the database and the pool when `/metrics` is scraped.

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

use super::{DB_POOL, QUEUE_BROADCASTS, QUEUE_OLDEST_DUE, QUEUE_OLDEST_PUSH, QUEUE_PUSHES};

fn age(now: DateTime<Utc>, since: Option<DateTime<Utc>>) -> f64 {
    since.map_or(0.0, |t| {
        std::cmp::Ord::max((now - t).num_milliseconds(), 0) as f64 / 1000.0
    })
}

/// Reads the shared state into gauges, right before a scrape: broadcasts due or being fanned
/// out and how long the oldest has been due, pushes waiting and how long the oldest has been
/// due, and the connection pool.
pub async fn observe(core: &Core) -> CoreResult<()> {
    observe_pool(core);
    // While the database is down the queue gauges keep their last reading (`fingertip_db_up`
    // says why) and the scrape does not wait for a connection.
    if core.db_health.is_up() {
        observe_queue(core).await?;
    }
    Ok(())
}

async fn observe_queue(core: &Core) -> CoreResult<()> {
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
    Ok(())
}

fn observe_pool(core: &Core) {
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
}
