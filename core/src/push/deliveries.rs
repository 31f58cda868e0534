//! Delivery rows: written by the fan-out in the same transaction as the inbox rows, one per
//! recipient and push channel, so that a push is never lost between "in the inbox" and "on the
//! phone": whatever crashes, the row is there for a push worker to pick up.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use serde_json::json;

use super::DeliveryStatus;
use crate::Core;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::Channel;
use crate::entities::{broadcasts, inbox_items, members, push_deliveries};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

/// The push channels of a broadcast (inbox is not one).
pub fn push_channels(b: &broadcasts::Model) -> Vec<Channel> {
    b.channels
        .0
        .iter()
        .copied()
        .filter(|c| *c != Channel::Inbox)
        .collect()
}

/// Whether a member can be reached on a channel at all, and the reason when not.
fn reachable(c: Channel) -> (SimpleExpr, &'static str) {
    match c {
        Channel::Wecom => (
            members::Column::WecomUserid.is_not_null(),
            "no_wecom_userid: the member has no WeCom user id",
        ),
        _ => (
            members::Column::WechatOpenid.is_not_null(),
            "not_bound: the member has not bound WeChat",
        ),
    }
}

/// Writes the delivery rows of round `round` for the audience members with ids in
/// `(after, upto]`: `pending` for those the channel can reach, `skipped` with the reason for
/// the others. Existing rows are left alone. One `INSERT ... SELECT` per channel and outcome.
pub async fn insert_range(
    db: &impl ConnectionTrait,
    b: &broadcasts::Model,
    audience: &Audience,
    tree: &UnitTree,
    (after, upto): (i64, i64),
    round: i32,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    let members_cond = audience
        .condition(tree)
        .add(members::Column::Id.gt(after))
        .add(members::Column::Id.lte(upto));
    insert_where(db, b, members_cond, round, now).await
}

/// Writes the delivery rows of round `round` for the members matching `members_cond`.
async fn insert_where(
    db: &impl ConnectionTrait,
    b: &broadcasts::Model,
    members_cond: Condition,
    round: i32,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    for channel in push_channels(b) {
        let (can, why) = reachable(channel);
        for (status, cond, error) in [
            (DeliveryStatus::Pending, can.clone(), None),
            (DeliveryStatus::Skipped, can.not(), Some(why)),
        ] {
            let select = Query::select()
                .column(members::Column::Id)
                .expr(Expr::val(b.id))
                .expr(Expr::val(b.occurrence))
                .expr(Expr::val(round))
                .expr(Expr::val(channel))
                .expr(Expr::val(status))
                .expr(Expr::val(0i32))
                .expr(Expr::val(now))
                .expr(Expr::val(error.map(str::to_string)))
                .expr(Expr::val(now))
                .expr(Expr::val(now))
                .from(members::Entity)
                .cond_where(members_cond.clone().add(cond))
                .to_owned();
            let mut insert = Query::insert();
            insert
                .into_table(push_deliveries::Entity)
                .columns([
                    push_deliveries::Column::MemberId,
                    push_deliveries::Column::BroadcastId,
                    push_deliveries::Column::Occurrence,
                    push_deliveries::Column::Round,
                    push_deliveries::Column::Channel,
                    push_deliveries::Column::Status,
                    push_deliveries::Column::Attempts,
                    push_deliveries::Column::NextAttemptAt,
                    push_deliveries::Column::LastError,
                    push_deliveries::Column::CreatedAt,
                    push_deliveries::Column::UpdatedAt,
                ])
                .select_from(select)
                .map_err(|e| CoreError::Internal(format!("delivery insert: {e}")))?
                .on_conflict(
                    OnConflict::columns([
                        push_deliveries::Column::BroadcastId,
                        push_deliveries::Column::Occurrence,
                        push_deliveries::Column::Round,
                        push_deliveries::Column::MemberId,
                        push_deliveries::Column::Channel,
                    ])
                    .do_nothing()
                    .to_owned(),
                );
            db.execute(&insert).await?;
        }
    }
    Ok(())
}

/// One channel's deliveries of a broadcast, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStats {
    pub sent: u64,
    pub failed: u64,
    pub skipped: u64,
    pub pending: u64,
    /// A worker died between handing the push to the platform and recording the answer.
    pub unknown: u64,
}

/// A broadcast's pushes, by channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushStats {
    pub wechat: ChannelStats,
    pub wecom: ChannelStats,
}

#[derive(Debug, FromQueryResult)]
struct StatusCount {
    channel: Channel,
    status: DeliveryStatus,
    n: i64,
}

/// Per channel: sent, failed (dead letters), skipped, pending (waiting or being sent), and
/// unknown (a worker died mid-send).
pub async fn stats(core: &Core, broadcast_id: i64) -> CoreResult<PushStats> {
    let rows = push_deliveries::Entity::find()
        .select_only()
        .column(push_deliveries::Column::Channel)
        .column(push_deliveries::Column::Status)
        .column_as(Expr::col(push_deliveries::Column::Id).count(), "n")
        .filter(push_deliveries::Column::BroadcastId.eq(broadcast_id))
        .group_by(push_deliveries::Column::Channel)
        .group_by(push_deliveries::Column::Status)
        .into_model::<StatusCount>()
        .all(&core.db)
        .await?;
    let mut out = PushStats::default();
    for r in rows {
        let c = match r.channel {
            Channel::Wechat => &mut out.wechat,
            Channel::Wecom => &mut out.wecom,
            Channel::Inbox => continue,
        };
        let n = u64::try_from(r.n).unwrap_or(0);
        match r.status {
            DeliveryStatus::Sent => c.sent += n,
            DeliveryStatus::Dead => c.failed += n,
            DeliveryStatus::Skipped => c.skipped += n,
            DeliveryStatus::Pending | DeliveryStatus::Sending => c.pending += n,
            DeliveryStatus::Unknown => c.unknown += n,
        }
    }
    Ok(out)
}

/// One delivery as the admin sees it beside a recipient.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    pub channel: Channel,
    pub round: i32,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_error_code: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The deliveries of a broadcast to these members, by member.
pub async fn of_members(
    core: &Core,
    broadcast_id: i64,
    member_ids: &[i64],
) -> CoreResult<HashMap<i64, Vec<DeliveryView>>> {
    let rows = crate::db::load_grouped_by_ids(
        &core.db,
        push_deliveries::Entity::find()
            .filter(push_deliveries::Column::BroadcastId.eq(broadcast_id))
            .order_by_asc(push_deliveries::Column::Id),
        push_deliveries::Column::MemberId,
        member_ids.iter().copied(),
    )
    .await?;
    let view = |d: push_deliveries::Model| DeliveryView {
        channel: d.channel,
        round: d.round,
        status: d.status,
        attempts: d.attempts,
        last_error_code: d.last_error_code,
        last_error: d.last_error,
        sent_at: d.sent_at,
    };
    Ok(rows
        .into_iter()
        .map(|(member, ds)| (member, ds.into_iter().map(view).collect()))
        .collect())
}

/// Members of a broadcast with a push given up on (dead) or of unknown outcome: a subquery
/// for the recipients list's `state=failed`.
pub fn failed_members(broadcast_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(push_deliveries::Column::MemberId)
        .from(push_deliveries::Entity)
        .and_where(Expr::col(push_deliveries::Column::BroadcastId).eq(broadcast_id))
        .and_where(
            Expr::col(push_deliveries::Column::Status)
                .is_in([DeliveryStatus::Dead, DeliveryStatus::Unknown]),
        )
        .to_owned()
}

/// The next reminder round of an occurrence: 1 after the send (round 0), then one more each.
pub(crate) async fn next_round(
    db: &impl ConnectionTrait,
    broadcast_id: i64,
    occurrence: i64,
) -> CoreResult<i32> {
    let last: Option<i32> = push_deliveries::Entity::find()
        .select_only()
        .column_as(Expr::col(push_deliveries::Column::Round).max(), "r")
        .filter(push_deliveries::Column::BroadcastId.eq(broadcast_id))
        .filter(push_deliveries::Column::Occurrence.eq(occurrence))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    Ok(last.unwrap_or(0) + 1)
}

/// The active members who have not read an occurrence of a broadcast, as a condition on
/// `members`.
pub(crate) fn unread_members(broadcast_id: i64, occurrence: i64) -> Condition {
    let unread = Query::select()
        .column(inbox_items::Column::MemberId)
        .from(inbox_items::Entity)
        .and_where(Expr::col(inbox_items::Column::BroadcastId).eq(broadcast_id))
        .and_where(Expr::col(inbox_items::Column::Occurrence).eq(occurrence))
        .and_where(Expr::col(inbox_items::Column::ReadAt).is_null())
        .to_owned();
    Condition::all()
        .add(members::Column::Active.eq(true))
        .add(members::Column::Id.in_subquery(unread))
}

/// A reminder round, in the caller's transaction: a delivery on each push channel of `b`
/// (at its `occurrence`) for every active member who has not read it. Returns the pushes
/// queued (those skipped as unreachable are written, not counted).
pub(crate) async fn queue_round(
    db: &impl ConnectionTrait,
    b: &broadcasts::Model,
    round: i32,
    now: DateTime<Utc>,
) -> CoreResult<u64> {
    insert_where(db, b, unread_members(b.id, b.occurrence), round, now).await?;
    Ok(push_deliveries::Entity::find()
        .filter(push_deliveries::Column::BroadcastId.eq(b.id))
        .filter(push_deliveries::Column::Occurrence.eq(b.occurrence))
        .filter(push_deliveries::Column::Round.eq(round))
        .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending))
        .count(db)
        .await?)
}

/// Re-notifies the members who have not read the latest occurrence: a new round of
/// deliveries on the broadcast's push channels. Returns (round, members reminded).
pub async fn remind(core: &Core, actor: &Actor, broadcast_id: i64) -> CoreResult<(i32, u64)> {
    let b = crate::broadcasts::service::find_managed(core, actor, broadcast_id).await?;
    if b.status == crate::broadcasts::Status::Canceled {
        return Err(CoreError::Conflict("the broadcast was canceled".into()));
    }
    let channels = push_channels(&b);
    if channels.is_empty() {
        return Err(CoreError::Conflict(
            "the broadcast has no push channel to remind on (it was sent to the inbox only)".into(),
        ));
    }
    let occurrence: Option<i64> = inbox_items::Entity::find()
        .select_only()
        .column_as(Expr::col(inbox_items::Column::Occurrence).max(), "o")
        .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
        .into_tuple::<Option<i64>>()
        .one(&core.db)
        .await?
        .flatten();
    let Some(occurrence) = occurrence else {
        return Err(CoreError::Conflict(
            "nothing has been delivered yet, so there is nobody to remind".into(),
        ));
    };
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    // The broadcast's row locked (SQLite's write transaction is): a ladder step running at once
    // takes its round after this one, never the same.
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        broadcasts::Entity::find_by_id(broadcast_id)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let round = next_round(&txn, broadcast_id, occurrence).await?;
    let busy = push_deliveries::Entity::find()
        .filter(push_deliveries::Column::BroadcastId.eq(broadcast_id))
        .filter(push_deliveries::Column::Occurrence.eq(occurrence))
        .filter(push_deliveries::Column::Round.eq(round - 1))
        .filter(push_deliveries::Column::Round.gt(0))
        .filter(
            push_deliveries::Column::Status
                .is_in([DeliveryStatus::Pending, DeliveryStatus::Sending]),
        )
        .count(&txn)
        .await?;
    if busy > 0 {
        txn.rollback().await?;
        return Err(CoreError::Conflict(
            "the previous reminder is still being sent".into(),
        ));
    }
    let mut at_occurrence = b.clone();
    at_occurrence.occurrence = occurrence;
    insert_where(
        &txn,
        &at_occurrence,
        unread_members(broadcast_id, occurrence),
        round,
        now,
    )
    .await?;
    let reminded = inbox_items::Entity::find()
        .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
        .filter(inbox_items::Column::Occurrence.eq(occurrence))
        .filter(inbox_items::Column::ReadAt.is_null())
        .count(&txn)
        .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("broadcast.remind")
            .target("broadcast", broadcast_id)
            .summary(json!({"round": round, "occurrence": occurrence, "reminded": reminded})),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        broadcast.id = broadcast_id,
        round,
        reminded,
        "reminder queued"
    );
    Ok((round, reminded))
}
