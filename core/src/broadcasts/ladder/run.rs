//! The workers' sweep: runs the ladder steps that are due, each once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{Ladder, Step, summary};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::broadcasts::Status;
use crate::entities::{broadcast_steps, broadcasts, inbox_items, members};
use crate::error::CoreResult;
use crate::push::deliveries;

/// Broadcasts looked at per sweep; the rest wait for the next pass.
const PER_SWEEP: u64 = 50;

/// Runs every ladder step that is due. Returns how many steps ran.
pub async fn run_due(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    let due: Vec<(i64, Status)> = broadcasts::Entity::find()
        .select_only()
        .column(broadcasts::Column::Id)
        .column(broadcasts::Column::Status)
        .filter(broadcasts::Column::LadderNextAt.lte(now))
        .order_by_asc(broadcasts::Column::LadderNextAt)
        .limit(PER_SWEEP)
        .into_tuple()
        .all(&core.db)
        .await?;
    let mut ran = 0;
    for (id, status) in due {
        match status {
            Status::Sent => ran += run_broadcast(core, id).await?,
            // Nothing is left to escalate.
            Status::Canceled | Status::Failed => {
                broadcasts::Entity::update_many()
                    .col_expr(
                        broadcasts::Column::LadderNextAt,
                        Expr::value(Option::<DateTime<Utc>>::None),
                    )
                    .filter(broadcasts::Column::Id.eq(id))
                    .exec(&core.db)
                    .await?;
            }
            // Not fanned out yet: the steps wait for it.
            Status::Scheduled | Status::Sending => {}
        }
    }
    Ok(ran)
}

/// Runs the due steps of one sent broadcast, one transaction each. The broadcast's row is
/// locked first (on SQLite the write transaction is), so two workers take turns, and the
/// second finds the step's row written and the next due time moved.
async fn run_broadcast(core: &Core, id: i64) -> CoreResult<u64> {
    let mut ran = 0;
    loop {
        let now = core.now();
        let txn = crate::db::begin_write(&core.db).await?;
        let q = crate::db::for_update(broadcasts::Entity::find_by_id(id), &txn);
        let Some(b) = q.one(&txn).await? else {
            break;
        };
        let (Some(ladder), Some(read_by), Some(next_at)) = (b.ladder, b.read_by, b.ladder_next_at)
        else {
            break;
        };
        if next_at > now || b.status != Status::Sent {
            break;
        }
        let done: Vec<Step> = broadcast_steps::Entity::find()
            .select_only()
            .column(broadcast_steps::Column::Step)
            .filter(broadcast_steps::Column::BroadcastId.eq(id))
            .filter(broadcast_steps::Column::Occurrence.eq(b.occurrence))
            .into_tuple()
            .all(&txn)
            .await?;
        let plan: Vec<(Step, DateTime<Utc>)> = ladder
            .plan(b.send_at, read_by)
            .into_iter()
            .filter(|(s, _)| !done.contains(s))
            .collect();
        match plan.first() {
            Some(&(step, due)) if due <= now => {
                let follows = plan.get(1).map(|&(_, at)| at);
                let summaries = run_step(core, &txn, &b, ladder, step, due, now).await?;
                set_next(&txn, id, follows).await?;
                txn.commit().await?;
                for bid in summaries {
                    crate::broadcasts::service::wake(core, bid).await;
                }
                ran += 1;
            }
            other => {
                // Not yet due (a step's time moved), or nothing left.
                set_next(&txn, id, other.map(|&(_, at)| at)).await?;
                txn.commit().await?;
                break;
            }
        }
    }
    Ok(ran)
}

async fn set_next(
    txn: &DatabaseTransaction,
    id: i64,
    next: Option<DateTime<Utc>>,
) -> CoreResult<()> {
    broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::LadderNextAt, Expr::value(next))
        .filter(broadcasts::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// One step, in the caller's transaction: the pushes or the summaries, the step's row and its
/// audit entry. Returns the summaries' broadcasts, to wake the fan-out for once committed.
async fn run_step(
    core: &Core,
    txn: &DatabaseTransaction,
    b: &broadcasts::Model,
    ladder: Ladder,
    step: Step,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> CoreResult<Vec<i64>> {
    let unread = inbox_items::Entity::find()
        .inner_join(members::Entity)
        .filter(inbox_items::Column::BroadcastId.eq(b.id))
        .filter(inbox_items::Column::Occurrence.eq(b.occurrence))
        .filter(inbox_items::Column::ReadAt.is_null())
        .filter(members::Column::Active.eq(true))
        .count(txn)
        .await?;
    let (mut round, mut pushes, mut detail, mut summaries) = (None, 0, None, vec![]);
    match step {
        Step::Remind | Step::Urgent => {
            if unread > 0 && !deliveries::push_channels(b).is_empty() {
                let r = deliveries::next_round(txn, b.id, b.occurrence).await?;
                pushes = deliveries::queue_round(txn, b, r, now).await?;
                round = Some(r);
            }
        }
        Step::Summary => {
            let sent = summary::send(core, txn, b, now).await?;
            pushes = sent.broadcasts.len() as u64;
            detail = Some(sent.detail);
            summaries = sent.broadcasts;
        }
    }
    broadcast_steps::ActiveModel {
        broadcast_id: Set(b.id),
        occurrence: Set(b.occurrence),
        step: Set(step),
        due_at: Set(due),
        ran_at: Set(now),
        unread: Set(i64::try_from(unread).unwrap_or(i64::MAX)),
        pushes: Set(i64::try_from(pushes).unwrap_or(i64::MAX)),
        round: Set(round),
        detail: Set(detail),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::append(
        txn,
        now,
        &Who::system(),
        Event::new("broadcast.escalate")
            .target("broadcast", b.id)
            .summary(json!({
                "step": step.as_str(),
                "occurrence": b.occurrence,
                "unread": unread,
                "pushes": pushes,
                "round": round,
                "ladder": ladder,
            })),
    )
    .await?;
    tracing::info!(
        broadcast.id = b.id,
        step = step.as_str(),
        unread,
        pushes,
        "required-reading step ran"
    );
    Ok(summaries)
}
