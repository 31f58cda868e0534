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
