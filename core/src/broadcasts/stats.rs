//! Who received, who read: the admin's view of one broadcast.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};

use crate::Core;
use crate::auth::Actor;
use crate::entities::{inbox_items, members};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;
use crate::paging::{Order, Page, PageRequest};
use crate::push::deliveries::PushStats;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub recipients: u64,
    pub delivered: u64,
    pub read: u64,
    pub unread: u64,
    pub push: PushStats,
}

#[derive(Debug, FromQueryResult)]
struct Counts {
    total: i64,
    read: i64,
}

/// Delivery, read and push counts of a broadcast of the actor's scope.
pub async fn stats(core: &Core, actor: &Actor, broadcast_id: i64) -> CoreResult<Stats> {
    super::service::find_managed(core, actor, broadcast_id).await?;
    let c = inbox_items::Entity::find()
        .select_only()
        .column_as(Expr::col(inbox_items::Column::Id).count(), "total")
        .column_as(Expr::col(inbox_items::Column::ReadAt).count(), "read")
        .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
        .into_model::<Counts>()
        .one(&core.db)
        .await?
        .unwrap_or(Counts { total: 0, read: 0 });
    let (total, read) = (
        u64::try_from(c.total).unwrap_or(0),
        u64::try_from(c.read).unwrap_or(0),
    );
    Ok(Stats {
        recipients: total,
        delivered: total,
        read,
        unread: total.saturating_sub(read),
        push: crate::push::deliveries::stats(core, broadcast_id).await?,
    })
}

/// Points of a read curve: the broadcast's first send to now, in this many equal steps.
pub const CURVE_STEPS: u32 = 24;

/// How many had read by `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurvePoint {
    pub at: DateTime<Utc>,
    pub read: u64,
}

#[derive(Debug, FromQueryResult)]
struct ReadAt {
    read_at: Option<DateTime<Utc>>,
}

/// The read count over time of a broadcast of the actor's scope: from its first send to now in
/// [`CURVE_STEPS`] equal steps of at least a minute, each point the reads so far. Empty before
/// the broadcast has gone out. One pass over the broadcast's read rows (the same rows `stats`
/// counts).
pub async fn read_curve(
    core: &Core,
    actor: &Actor,
    broadcast_id: i64,
) -> CoreResult<Vec<CurvePoint>> {
    let b = super::service::find_managed(core, actor, broadcast_id).await?;
    let now = core.now();
    let since = b.send_at;
    if now <= since {
        return Ok(Vec::new());
    }
    let mut reads: Vec<DateTime<Utc>> = inbox_items::Entity::find()
        .select_only()
        .column(inbox_items::Column::ReadAt)
        .filter(inbox_items::Column::BroadcastId.eq(broadcast_id))
        .filter(inbox_items::Column::ReadAt.is_not_null())
        .into_model::<ReadAt>()
        .all(&core.db)
        .await?
        .into_iter()
        .filter_map(|r| r.read_at)
        .collect();
    reads.sort_unstable();
    Ok(curve(since, now, &reads))
}

/// Cumulative counts of the sorted `reads` at `CURVE_STEPS + 1` instants from `since` to `now`.
fn curve(since: DateTime<Utc>, now: DateTime<Utc>, reads: &[DateTime<Utc>]) -> Vec<CurvePoint> {
    let span = (now - since).max(chrono::Duration::minutes(1));
    let step = span / i32::try_from(CURVE_STEPS).unwrap_or(24);
    (0..=CURVE_STEPS)
        .map(|i| {
            let at = if i == CURVE_STEPS {
                since + span
            } else {
                since + step * i32::try_from(i).unwrap_or(0)
            };
            CurvePoint {
                at,
                read: reads.partition_point(|r| *r <= at) as u64,
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientState {
    Read,
    Unread,
    Failed,
}

impl RecipientState {
    pub fn parse(s: &str) -> CoreResult<Self> {
        match s {
            "read" => Ok(Self::Read),
            "unread" => Ok(Self::Unread),
            "failed" => Ok(Self::Failed),
            _ => Err(CoreError::invalid(
                "state",
                "must be one of read, unread, failed",
            )),
        }
    }
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct RecipientView {
    pub inbox_id: i64,
    pub member_id: i64,
    pub name: String,
    pub unit_id: Option<i64>,
    pub delivered_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Recipients in delivery order, optionally only those in one state. A secretary sees only
/// the recipients who are in their scope now.
pub async fn recipients(
    core: &Core,
    actor: &Actor,
    broadcast_id: i64,
    state: Option<RecipientState>,
    page: PageRequest,
) -> CoreResult<Page<RecipientView>> {
    super::service::find_managed(core, actor, broadcast_id).await?;
    let mut cond = Condition::all().add(inbox_items::Column::BroadcastId.eq(broadcast_id));
    if let Some(units) = UnitTree::load(&core.db).await?.scope_of(actor).units() {
        cond = cond.add(Expr::col((members::Entity, members::Column::UnitId)).is_in(units));
    }
    match state {
        Some(RecipientState::Read) => cond = cond.add(inbox_items::Column::ReadAt.is_not_null()),
        Some(RecipientState::Unread) => cond = cond.add(inbox_items::Column::ReadAt.is_null()),
        // A push given up on (dead letter) or of unknown outcome, on any channel.
        Some(RecipientState::Failed) => {
            cond = cond.add(
                inbox_items::Column::MemberId
                    .in_subquery(crate::push::deliveries::failed_members(broadcast_id)),
            );
        }
        None => {}
    }
    let query = inbox_items::Entity::find()
        .select_only()
        .column_as(inbox_items::Column::Id, "inbox_id")
        .column(inbox_items::Column::MemberId)
        .column_as(Expr::col((members::Entity, members::Column::Name)), "name")
        .column_as(
            Expr::col((members::Entity, members::Column::UnitId)),
            "unit_id",
        )
        .column_as(inbox_items::Column::CreatedAt, "delivered_at")
        .column(inbox_items::Column::ReadAt)
        .inner_join(members::Entity)
        .filter(cond);
    page.by_key(
        query,
        inbox_items::Column::Id,
        Order::Ascending,
        |q| q.into_model::<RecipientView>().all(&core.db),
        |r: &RecipientView| r.inbox_id,
    )
    .await
}

#[cfg(test)]
mod curve_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_curve_counts_the_reads_up_to_each_step() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
        let m = |min: i64| t0 + chrono::Duration::minutes(min);
        let reads = [m(1), m(2), m(2), m(30), m(47)];
        let c = curve(t0, m(48), &reads);
        assert_eq!(c.len(), 25);
        assert_eq!((c[0].at, c[0].read), (t0, 0));
        // Steps of 2 minutes: by minute 2, three reads.
        assert_eq!((c[1].at, c[1].read), (m(2), 3));
        assert_eq!(c[15].read, 4);
        assert_eq!((c[24].at, c[24].read), (m(48), 5));
    }
}
