//! Fan-out: a broadcast's recipients get one inbox row each, exactly once.
//!
//! A worker claims a `sending` broadcast with a lease (an expiring claim in the broadcast's
//! row), then walks the roster in member-id order, one window per transaction, inserting the
//! rows of the audience's members in it and recording its cursor and a renewed lease with each
//! window. A worker that dies leaves an expiring lease; whoever claims next resumes after the
//! cursor. The unique key (broadcast, occurrence, member) refuses a row written twice, and a
//! window refused for it is written again keeping the rows that exist. The last step closes the
//! occurrence, only while the lease is still ours: a recurring broadcast goes back to
//! `scheduled` for its next occurrence, anything else is `sent`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

mod config;

pub use config::{
    BATCH_RANGE, DEFAULT_BATCH, DEFAULT_LEASE_SECS, DEFAULT_STREAMS, FanoutConfig,
    LEASE_SECS_RANGE, STREAMS_RANGE,
};

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

/// How rows that exist already are met by [`insert_range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// None is expected (the cursor moves in the transaction that writes the rows): a row that
    /// exists fails the statement with the unique index's violation, and the caller writes
    /// the window again with [`Existing::Skip`]. Without the conflict clause PostgreSQL inserts
    /// each row once instead of probing the unique index first (about a quarter of the
    /// statement's time, measured in `EXPLAIN ANALYZE`).
    Fail,
    /// `ON CONFLICT DO NOTHING`: a window met again, or the repair tool writing everything again.
    Skip,
}

/// Writes the inbox rows of the audience members with ids in `(after, upto]`, in one
/// `INSERT ... SELECT` that runs inside the database: no value is bound per row, which is what
/// keeps the fan-out close to a bulk `COPY`. Returns the members whose rows were written now,
/// each with their row's id (`RETURNING`): what the live sockets are told of.
pub async fn insert_range(
    db: &impl ConnectionTrait,
    b: &broadcasts::Model,
    audience: &Audience,
    tree: &UnitTree,
    (after, upto): (i64, i64),
    now: DateTime<Utc>,
    existing: Existing,
) -> CoreResult<Vec<(i64, i64)>> {
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
        .returning(
            Query::returning().columns([inbox_items::Column::MemberId, inbox_items::Column::Id]),
        );
    if existing == Existing::Skip {
        insert.on_conflict(
            OnConflict::columns([
                inbox_items::Column::BroadcastId,
                inbox_items::Column::Occurrence,
                inbox_items::Column::MemberId,
            ])
            .do_nothing()
            .to_owned(),
        );
    }
    let rows = db.query_all(&insert).await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by_index::<i64>(0)?, r.try_get_by_index::<i64>(1)?)))
        .collect()
}

/// The last member id of the window of the next `batch` members after `after`, whoever the
/// audience is; `None` when no member follows. The window walks the primary key alone, so its
/// plan does not depend on what the planner knows of the audience's columns: a roster imported
/// a moment ago has no statistics yet, and the audience's `ORDER BY id LIMIT n` over it was
/// planned as a full scan and sort per batch (21 ms against 0.8 ms for 2,000 of 100,000
/// members, measured). A window holds at most `batch` recipients.
async fn next_window(db: &impl ConnectionTrait, after: i64, batch: u64) -> CoreResult<Option<i64>> {
    let window = Query::select()
        .column(members::Column::Id)
        .from(members::Entity)
        .and_where(Expr::col(members::Column::Id).gt(after))
        .order_by(members::Column::Id, sea_orm::Order::Asc)
        .limit(batch)
        .to_owned();
    let last = Query::select()
        .expr(Expr::col(members::Column::Id).max())
        .from_subquery(window, "window")
        .to_owned();
    let row = db.query_one(&last).await?;
    Ok(match row {
        Some(r) => r.try_get_by_index::<Option<i64>>(0)?,
        None => None,
    })
}

/// What came of one window.
enum Step {
    /// The window is written at `at`; `written` are the members whose rows are new, with
    /// their rows' ids.
    Written {
        at: DateTime<Utc>,
        written: Vec<(i64, i64)>,
    },
    /// The lease is gone (another worker, or a cancel), or the window before this one was not
    /// written: nothing of this window was kept.
    Stopped,
}

/// A window of the roster, `(from, upto]`, and how it meets rows that exist.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: i64,
    upto: i64,
    existing: Existing,
}

/// Windows written at once are committed in member order: each waits for the one before it
/// (`after`: `true` once it committed) and tells the one after it (`done`), so that the cursor
/// only ever moves over windows that are written. A window whose predecessor failed rolls back.
struct Turn {
    after: Option<tokio::sync::oneshot::Receiver<bool>>,
    done: tokio::sync::oneshot::Sender<bool>,
}

/// Writes a window in one transaction: its inbox rows, its pushes' delivery rows, the cursor
/// moved from `w.from` to `w.upto` and a renewed lease. The rows are written while the window
/// before is still being written; the cursor only once that one has committed.
async fn write_window(
    core: &Core,
    b: &broadcasts::Model,
    (audience, tree): (&Audience, &UnitTree),
    (worker, cfg): (&str, &FanoutConfig),
    w: Window,
    turn: Turn,
) -> CoreResult<Step> {
    let txn = crate::db::begin_write(&core.db).await?;
    let now = core.now();
    let range = (w.from, w.upto);
    let written = insert_range(&txn, b, audience, tree, range, now, w.existing).await?;
    // The pushes of the same members, in the same transaction: a member in the inbox is a
    // member with a delivery row for each push channel.
    crate::push::deliveries::insert_range(&txn, b, audience, tree, range, 0, now).await?;
    if let Some(after) = turn.after
        && after.await != Ok(true)
    {
        txn.rollback().await?;
        return Ok(Step::Stopped);
    }
    // Renew the lease and move the cursor in the same transaction, only from where the window
    // starts: if the lease is gone, or the cursor is elsewhere, nothing of it is kept.
    let renewed = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::FanoutCursor, Expr::value(w.upto))
        .col_expr(broadcasts::Column::LeaseUntil, Expr::value(now + cfg.lease))
        .filter(broadcasts::Column::Id.eq(b.id))
        .filter(broadcasts::Column::LeaseOwner.eq(worker))
        .filter(broadcasts::Column::Status.eq(Status::Sending))
        .filter(broadcasts::Column::FanoutCursor.eq(w.from))
        .exec(&txn)
        .await?;
    if renewed.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(Step::Stopped);
    }
    txn.commit().await?;
    // The window after this one may move the cursor now (if it has not failed meanwhile).
    let _ = turn.done.send(true);
    Ok(Step::Written { at: now, written })
}

/// Up to `n` windows of `batch` roster members after `cursor`, in member order.
async fn plan_windows(core: &Core, cursor: i64, batch: u64, n: u64) -> CoreResult<Vec<(i64, i64)>> {
    let mut windows = Vec::new();
    let mut from = cursor;
    while (windows.len() as u64) < n {
        let Some(upto) = next_window(&core.db, from, batch).await? else {
            break;
        };
        windows.push((from, upto));
        from = upto;
    }
    Ok(windows)
}

/// Runs the fan-out of a claimed broadcast to the end, until the lease is lost, or until
/// `stop()` says so between rounds (then the lease is released for the next worker). A round
/// writes up to `cfg.streams` windows at once on PostgreSQL (one at a time on SQLite).
pub async fn run(
    core: &Core,
    b: broadcasts::Model,
    worker: &str,
    cfg: &FanoutConfig,
    stop: &(dyn Fn() -> bool + Sync),
) -> CoreResult<Outcome> {
    let audience = b.audience.clone();
    let tree = UnitTree::load(&core.db).await?;
    let streams = cfg.streams_on(core.db.get_database_backend());
    let mut cursor = b.fanout_cursor;
    let mut inserted = 0u64;
    // After a window met rows written before, the next round writes that window alone,
    // keeping them.
    let mut existing = Existing::Fail;
    loop {
        if stop() {
            release(core, b.id, worker).await?;
            return Ok(Outcome::Stopped { inserted });
        }
        let started = std::time::Instant::now();
        let n = if existing == Existing::Skip {
            1
        } else {
            streams
        };
        let windows = plan_windows(core, cursor, cfg.batch, n).await?;
        if windows.is_empty() {
            break;
        }
        let mut writes = Vec::with_capacity(windows.len());
        let mut after = None;
        for &(from, upto) in &windows {
            let (done, next) = tokio::sync::oneshot::channel();
            let w = Window {
                from,
                upto,
                existing,
            };
            let turn = Turn {
                after: after.replace(next),
                done,
            };
            writes.push(write_window(
                core,
                &b,
                (&audience, &tree),
                (worker, cfg),
                w,
                turn,
            ));
        }
        let results = futures_util::future::join_all(writes).await;
        existing = Existing::Fail;
        for (i, (result, &(_, upto))) in results.into_iter().zip(&windows).enumerate() {
            let (at, written) = match result {
                Ok(Step::Written { at, written }) => (at, written),
                Err(e) if e.is_unique_violation() => {
                    tracing::info!(
                        broadcast.id = b.id,
                        cursor,
                        "part of a window was written before; writing it again keeping those rows"
                    );
                    existing = Existing::Skip;
                    break;
                }
                Err(e) => return Err(e),
                Ok(Step::Stopped) if i == 0 => {
                    tracing::warn!(
                        broadcast.id = b.id,
                        worker,
                        "lost the fan-out lease; stopping"
                    );
                    return Ok(Outcome::Stopped { inserted });
                }
                // A window after one that was not written: the next round starts there again.
                Ok(Step::Stopped) => break,
            };
            let n = written.len() as u64;
            metrics::counter!(crate::metrics::FANOUT_ROWS).increment(n);
            crate::live::delivered(core, &b, at, &written).await;
            inserted += n;
            cursor = upto;
        }
        metrics::histogram!(crate::metrics::FANOUT_BATCH_DURATION)
            .record(started.elapsed().as_secs_f64());
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
    while let Some(upto) = next_window(&core.db, cursor, cfg.batch).await? {
        let now = core.now();
        let range = (cursor, upto);
        inserted += insert_range(&core.db, &b, &audience, &tree, range, now, Existing::Skip)
            .await?
            .len() as u64;
        crate::push::deliveries::insert_range(&core.db, &b, &audience, &tree, range, 0, now)
            .await?;
        cursor = upto;
    }
    Ok(inserted)
}
