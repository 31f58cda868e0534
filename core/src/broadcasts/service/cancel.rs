//! Cancelling a broadcast and every future occurrence.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::model::BroadcastView;
use super::model::Status;
use super::read::find;
use super::read::find_managed;
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::broadcasts;
use crate::error::{CoreError, CoreResult};

/// Cancels a broadcast of the actor's scope that has not finished sending, and every future
/// occurrence of a recurring one. 409 once it is sent or canceled.
pub async fn cancel(core: &Core, actor: &Actor, id: i64) -> CoreResult<BroadcastView> {
    find_managed(core, actor, id).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    let canceled = cancel_in(core, &txn, id).await?;
    if canceled {
        audit::append(
            &txn,
            core.now(),
            &actor.into(),
            Event::new("broadcast.cancel").target("broadcast", id),
        )
        .await?;
    }
    txn.commit().await?;
    let view = find(core, id).await?;
    if !canceled {
        return Err(CoreError::Conflict(format!(
            "the broadcast is already {}; there is nothing left to cancel",
            view.status.as_str()
        )));
    }
    tracing::info!(broadcast.id = id, "broadcast canceled");
    Ok(view)
}

/// Cancels a broadcast as part of another service's (audited) action, e.g. a meeting's
/// reminders when it moves; `Ok(false)` when it had already gone out or been canceled.
pub(crate) async fn cancel_part_of(core: &Core, id: i64) -> CoreResult<bool> {
    let txn = crate::db::begin_write(&core.db).await?;
    let canceled = cancel_in(core, &txn, id).await?;
    txn.commit().await?;
    Ok(canceled)
}

pub(super) async fn cancel_in(
    core: &Core,
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
) -> CoreResult<bool> {
    let r = broadcasts::Entity::update_many()
        .col_expr(broadcasts::Column::Status, Expr::value(Status::Canceled))
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(core.now()))
        .col_expr(
            broadcasts::Column::NextRunAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::Status.is_in([Status::Scheduled, Status::Sending]))
        .exec(txn)
        .await?;
    Ok(r.rows_affected > 0)
}
