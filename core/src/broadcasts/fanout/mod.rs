//! Fan-out: a broadcast's recipients get one inbox row each, exactly once.
//!
//! A worker claims a `sending` broadcast with a lease (an expiring claim in the broadcast's
//! row), then walks the audience in member-id order, one batch per transaction, inserting rows
//! with `ON CONFLICT DO NOTHING` against the unique key (broadcast, occurrence, member) and
//! recording its cursor and a renewed lease with each batch. A worker that dies leaves an
//! expiring lease; whoever claims next resumes after the cursor, and any batch written twice is
//! a no-op. The last step closes the occurrence, only while the lease is still ours: a recurring
//! broadcast goes back to `scheduled` for its next occurrence, anything else is `sent`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

mod config;

pub use config::{BATCH_RANGE, DEFAULT_BATCH, DEFAULT_LEASE_SECS, FanoutConfig, LEASE_SECS_RANGE};

use super::schedule::{Rule, occurrence_key};
use super::service::Status;
use crate::Core;
use crate::audience::Audience;
use crate::entities::{broadcasts, inbox_items, members};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Fanned out to everyone; the broadcast is `sent`.
    Sent { inserted: u64 },
    /// Another worker holds it, or it is no longer `sending`.
    NotClaimed,
    /// The lease was lost (or the broadcast canceled) mid-way; someone else finishes.
    Stopped { inserted: u64 },
}

/// Moves scheduled broadcasts whose next occurrence has come to `sending`, with that
/// occurrence's key and a fresh cursor. Each move is a compare-and-set on the occurrence's time,
/// so when several workers sweep at once each occurrence is started exactly once, and an edit
/// that moved the time meanwhile wins. Returns how many moved.
pub async fn promote_due(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    // Only the schedule's columns: a row whose other columns cannot be read (a hand-edited
    // audience) fails its own fan-out, not every broadcast's promotion.
    let due = broadcasts::Entity::find()
        .select_only()
        .columns([
            broadcasts::Column::Id,
            broadcasts::Column::SendAt,
            broadcasts::Column::Timezone,
            broadcasts::Column::Recurrence,
            broadcasts::Column::NextRunAt,
        ])
        .filter(broadcasts::Column::Status.eq(Status::Scheduled))
        .filter(broadcasts::Column::NextRunAt.lte(now))
        .order_by_asc(broadcasts::Column::NextRunAt)
        .limit(100)
        .into_model::<Schedule>()
        .all(&core.db)
        .await?;
    let mut moved = 0;
    for b in due {
        let Some(at) = b.next_run_at else { continue };
        // Workers that were down for a while: run only the latest occurrence that is due.
        let run_at = latest_due(&b, at, now);
        let r = broadcasts::Entity::update_many()
            .col_expr(broadcasts::Column::Status, Expr::value(Status::Sending))
            .col_expr(broadcasts::Column::NextRunAt, Expr::value(run_at))
            .col_expr(
                broadcasts::Column::Occurrence,
                Expr::value(occurrence_key(b.recurrence.is_some(), run_at)),
            )
            .col_expr(broadcasts::Column::FanoutCursor, Expr::value(0i64))
            .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
            .filter(broadcasts::Column::Id.eq(b.id))
            .filter(broadcasts::Column::Status.eq(Status::Scheduled))
            .filter(broadcasts::Column::NextRunAt.eq(at))
            .exec(&core.db)
            .await?;
        if r.rows_affected == 1 {
            tracing::info!(broadcast.id = b.id, occurrence.at = %run_at, "occurrence due; fanning out");
            moved += 1;
        }
    }
    Ok(moved)
}

/// When a broadcast runs: what the schedule needs of its row.
#[derive(Debug, FromQueryResult)]
struct Schedule {
    id: i64,
    send_at: DateTime<Utc>,
    timezone: String,
    recurrence: Option<String>,
    next_run_at: Option<DateTime<Utc>>,
}

impl From<&broadcasts::Model> for Schedule {
    fn from(b: &broadcasts::Model) -> Self {
        Schedule {
            id: b.id,
            send_at: b.send_at,
            timezone: b.timezone.clone(),
            recurrence: b.recurrence.clone(),
            next_run_at: b.next_run_at,
        }
    }
}

fn rule_of(b: &Schedule) -> Option<Rule> {
    let text = b.recurrence.as_deref()?;
    let tz = b.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    match Rule::new(text, tz, b.send_at) {
        Ok(r) => Some(r),
        Err(e) => {
            // Validated when saved; only a hand-edited row gets here.
            tracing::error!(broadcast.id = b.id, error = %e, "stored rule no longer parses; no further occurrences");
            None
        }
    }
}

/// The latest occurrence at or before `now`, starting from the due one at `at`.
fn latest_due(b: &Schedule, at: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let Some(rule) = rule_of(b) else { return at };
    let next = rule.next_after(at, now);
    match next.at {
        Some(later) if later <= now => {
            tracing::warn!(
                broadcast.id = b.id,
                skipped = next.skipped + 1,
                "occurrences were missed while no worker ran; sending only the latest"
            );
            later
        }
        _ => at,
    }
}

fn lease_free(now: DateTime<Utc>, worker: &str) -> Condition {
    Condition::any()
        .add(broadcasts::Column::LeaseUntil.is_null())
        .add(broadcasts::Column::LeaseUntil.lt(now))
        .add(broadcasts::Column::LeaseOwner.eq(worker))
}

/// Broadcasts that are `sending` with no live lease: the sweeper's work list.
pub async fn claimable(core: &Core, worker: &str, limit: u64) -> CoreResult<Vec<i64>> {
    Ok(broadcasts::Entity::find()
        .select_only()
        .column(broadcasts::Column::Id)
        .filter(broadcasts::Column::Status.eq(Status::Sending))
        .filter(lease_free(core.now(), worker))
        .order_by_asc(broadcasts::Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(&core.db)
        .await?)
}

/// Claims a broadcast for `worker`; `None` when someone else holds it or it is not `sending`.
pub async fn claim(
    core: &Core,
    id: i64,
    worker: &str,
    cfg: &FanoutConfig,
) -> CoreResult<Option<broadcasts::Model>> {
    let now = core.now();
    let r = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::LeaseOwner, Expr::value(worker))
        .col_expr(broadcasts::Column::LeaseUntil, Expr::value(now + cfg.lease))
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::Status.eq(Status::Sending))
        .filter(lease_free(now, worker))
        .exec(&core.db)
        .await?;
    if r.rows_affected == 0 {
        return Ok(None);
    }
    Ok(broadcasts::Entity::find_by_id(id).one(&core.db).await?)
}

/// Writes the inbox rows of the audience members with ids in `(after, upto]`, in one
/// `INSERT ... SELECT` that runs inside the database: no value is bound per row, which is what
/// keeps the fan-out close to a bulk `COPY`. Rows that exist already are left alone. Returns
/// rows written.
pub async fn insert_range(
    db: &impl ConnectionTrait,
    b: &broadcasts::Model,
    audience: &Audience,
    tree: &UnitTree,
    (after, upto): (i64, i64),
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    let select = Query::select()
        .column(members::Column::Id)
        .expr(Expr::val(b.id))
        .expr(Expr::val(b.occurrence))
        .expr(Expr::val(b.post_id))
        .expr(Expr::val(now))
        .from(members::Entity)
        .cond_where(
            audience
                .condition(tree)
                .add(members::Column::Id.gt(after))
                .add(members::Column::Id.lte(upto)),
        )
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(inbox_items::Entity)
        .columns([
            inbox_items::Column::MemberId,
            inbox_items::Column::BroadcastId,
            inbox_items::Column::Occurrence,
            inbox_items::Column::PostId,
            inbox_items::Column::CreatedAt,
        ])
        .select_from(select)
        .map_err(|e| CoreError::Internal(format!("fan-out insert: {e}")))?
        .on_conflict(
            OnConflict::columns([
                inbox_items::Column::BroadcastId,
                inbox_items::Column::Occurrence,
                inbox_items::Column::MemberId,
            ])
            .do_nothing()
            .to_owned(),
        );
    let r = db.execute(&insert).await?;
    Ok(r.rows_affected())
}

async fn next_batch(
    db: &impl ConnectionTrait,
    audience: &Audience,
    tree: &UnitTree,
    after: i64,
    batch: u64,
) -> CoreResult<Vec<i64>> {
    Ok(members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(audience.condition(tree).add(members::Column::Id.gt(after)))
        .order_by_asc(members::Column::Id)
        .limit(batch)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Runs the fan-out of a claimed broadcast to the end, until the lease is lost, or until
/// `stop()` says so between batches (then the lease is released for the next worker).
pub async fn run(
    core: &Core,
    b: broadcasts::Model,
    worker: &str,
    cfg: &FanoutConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> CoreResult<Outcome> {
    let audience = b.audience.clone();
    let tree = UnitTree::load(&core.db).await?;
    let mut cursor = b.fanout_cursor;
    let mut inserted = 0u64;
    loop {
        if stop() {
            release(core, b.id, worker).await?;
            return Ok(Outcome::Stopped { inserted });
        }
        let started = std::time::Instant::now();
        let txn = crate::db::begin_write(&core.db).await?;
        let ids = next_batch(&txn, &audience, &tree, cursor, cfg.batch).await?;
        let now = core.now();
        let Some(&last) = ids.last() else {
            txn.rollback().await?;
            break;
        };
        let n = insert_range(&txn, &b, &audience, &tree, (cursor, last), now).await?;
        // The pushes of the same members, in the same transaction: a member in the inbox is
        // a member with a delivery row for each push channel.
        crate::push::deliveries::insert_range(&txn, &b, &audience, &tree, (cursor, last), 0, now)
            .await?;
        // Renew the lease and move the cursor in the same transaction: if the lease is gone,
        // nothing of this batch is kept and we stop.
        let renewed = broadcasts::Entity::update_many()
            .col_expr(broadcasts::Column::FanoutCursor, Expr::value(last))
            .col_expr(broadcasts::Column::LeaseUntil, Expr::value(now + cfg.lease))
            .filter(broadcasts::Column::Id.eq(b.id))
            .filter(broadcasts::Column::LeaseOwner.eq(worker))
            .filter(broadcasts::Column::Status.eq(Status::Sending))
            .exec(&txn)
            .await?;
        if renewed.rows_affected == 0 {
            txn.rollback().await?;
            tracing::warn!(
                broadcast.id = b.id,
                worker,
                "lost the fan-out lease; stopping"
            );
            return Ok(Outcome::Stopped { inserted });
        }
        txn.commit().await?;
        metrics::counter!(crate::metrics::FANOUT_ROWS).increment(n);
        metrics::histogram!(crate::metrics::FANOUT_BATCH_DURATION)
            .record(started.elapsed().as_secs_f64());
        crate::live::delivered(core, b.id, b.occurrence, &ids).await;
        inserted += n;
        cursor = last;
    }
    finish(core, &b, worker, inserted).await
}

/// What comes after an occurrence: the next one of a rule, or nothing. Occurrences that fell
/// due while this one was being sent are left to [`promote_due`], which keeps only the latest.
fn next_occurrence(b: &broadcasts::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let rule = rule_of(&Schedule::from(b))?;
    let last = b.next_run_at.unwrap_or(now);
    rule.first_from(last + Duration::seconds(1))
}

/// Closes the occurrence just fanned out, only while the lease is still ours: a recurring
/// broadcast goes back to `scheduled` for its next occurrence, anything else is `sent`.
async fn finish(
    core: &Core,
    b: &broadcasts::Model,
    worker: &str,
    inserted: u64,
) -> CoreResult<Outcome> {
    let now = core.now();
    let next = next_occurrence(b, now);
    let status = if next.is_some() {
        Status::Scheduled
    } else {
        Status::Sent
    };
    let done = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::Status, Expr::value(status))
        .col_expr(broadcasts::Column::NextRunAt, Expr::value(next))
        .col_expr(
            broadcasts::Column::OccurrencesSent,
            Expr::col(broadcasts::Column::OccurrencesSent).add(1),
        )
        .col_expr(broadcasts::Column::SentAt, Expr::value(now))
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            broadcasts::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            broadcasts::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(broadcasts::Column::Id.eq(b.id))
        .filter(broadcasts::Column::LeaseOwner.eq(worker))
        .filter(broadcasts::Column::Status.eq(Status::Sending))
        .exec(&core.db)
        .await?;
    if done.rows_affected == 0 {
        return Ok(Outcome::Stopped { inserted });
    }
    tracing::info!(broadcast.id = b.id, occurrence = b.occurrence, inserted, next_run_at = ?next, "occurrence fanned out");
    Ok(Outcome::Sent { inserted })
}

/// Gives up a lease early so that another worker can take over at once.
pub async fn release(core: &Core, id: i64, worker: &str) -> CoreResult<()> {
    broadcasts::Entity::update_many()
        .col_expr(
            broadcasts::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            broadcasts::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::LeaseOwner.eq(worker))
        .exec(&core.db)
        .await?;
    Ok(())
}

/// Claims and runs one broadcast if it is free.
pub async fn process(
    core: &Core,
    id: i64,
    worker: &str,
    cfg: &FanoutConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> CoreResult<Outcome> {
    match claim(core, id, worker, cfg).await? {
        None => Ok(Outcome::NotClaimed),
        Some(b) => {
            // The caller's span (`fanout.broadcast`) declares the occurrence; known only now.
            tracing::Span::current().record("occurrence", b.occurrence);
            run(core, b, worker, cfg, stop).await
        }
    }
}

/// Writes the whole audience again, ignoring status and lease: a repair tool, and the proof
/// that a repeated fan-out changes nothing. Returns rows newly written.
pub async fn refanout(core: &Core, id: i64, cfg: &FanoutConfig) -> CoreResult<u64> {
    let b = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let audience = b.audience.clone();
    let tree = UnitTree::load(&core.db).await?;
    let (mut cursor, mut inserted) = (0, 0);
    loop {
        let ids = next_batch(&core.db, &audience, &tree, cursor, cfg.batch).await?;
        let Some(&last) = ids.last() else { break };
        inserted +=
            insert_range(&core.db, &b, &audience, &tree, (cursor, last), core.now()).await?;
        crate::push::deliveries::insert_range(
            &core.db,
            &b,
            &audience,
            &tree,
            (cursor, last),
            0,
            core.now(),
        )
        .await?;
        cursor = last;
    }
    Ok(inserted)
}
