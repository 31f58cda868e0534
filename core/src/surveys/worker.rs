//! What the workers do for surveys, on the fan-out worker's calendar check: remind those who
//! have not answered a day before a survey closes, once, and seal ballots (`seal`).

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{SurveyStatus, status_at};
use crate::Core;
use crate::audit::Who;
use crate::broadcasts::service::wake;
use crate::entities::surveys;
use crate::error::CoreResult;

/// The worker's reminder goes out this long before a survey closes, to a survey published
/// earlier than that.
pub const REMIND_BEFORE: Duration = Duration::hours(24);

/// Sends the reminders that are due; how many went out.
pub async fn remind_due(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    let due: Vec<i64> = surveys::Entity::find()
        .select_only()
        .column(surveys::Column::Id)
        .filter(surveys::Column::Status.eq(SurveyStatus::Open))
        .filter(surveys::Column::AutoReminded.eq(false))
        .filter(surveys::Column::ClosesAt.gt(now))
        .filter(surveys::Column::ClosesAt.lte(now + REMIND_BEFORE))
        .into_tuple()
        .all(&core.db)
        .await?;
    let mut sent = 0;
    for id in due {
        let txn = crate::db::begin_write(&core.db).await?;
        let s = super::manage::lock(&txn, id).await?;
        if s.auto_reminded || status_at(&s, now) != SurveyStatus::Open {
            continue;
        }
        // Published within the last day before the close: the notice itself is the reminder.
        let late = s
            .published_at
            .is_none_or(|p| p > s.closes_at - REMIND_BEFORE);
        let mut woke = None;
        if !late {
            woke = super::manage::send_reminder(&txn, core, &s, &Who::system(), None, now).await?;
        }
        surveys::Entity::update_many()
            .col_expr(
                surveys::Column::AutoReminded,
                sea_orm::sea_query::Expr::value(true),
            )
            .filter(surveys::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if let Some((broadcast_id, _)) = woke {
            wake(core, broadcast_id).await;
            sent += 1;
        }
    }
    Ok(sent)
}

/// The reminders, then the seals.
pub async fn run_due(core: &Core) -> CoreResult<()> {
    remind_due(core).await?;
    super::seal::seal_due(core).await?;
    Ok(())
}
