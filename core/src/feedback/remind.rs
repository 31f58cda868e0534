//! The worker's reminder: threads waiting longer than `FINGERTIP_FEEDBACK_REMIND_DAYS` for an
//! answer, one notice per unit to its secretaries (or the nearest up the tree), once per wait.

use std::collections::BTreeMap;

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use super::State;
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::broadcasts::service::{Notice, all_channels, insert_notice, wake};
use crate::entities::feedback;
use crate::error::CoreResult;
use crate::org::secretaries::Secretaries;

/// Sends the reminders that are due; how many notices went out.
pub async fn remind_due(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    let days = core.settings.feedback_remind_days;
    let due = feedback::Entity::find()
        .filter(feedback::Column::State.eq(State::Open))
        .filter(feedback::Column::RemindedAt.is_null())
        .filter(feedback::Column::WaitingSince.lte(now - Duration::days(i64::from(days))))
        .order_by_asc(feedback::Column::Id)
        .all(&core.db)
        .await?;
    let mut by_unit: BTreeMap<i64, Vec<feedback::Model>> = BTreeMap::new();
    for f in due {
        by_unit.entry(f.unit_id).or_default().push(f);
    }
    let mut sent = 0;
    for (unit, rows) in by_unit {
        let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
        let txn = crate::db::begin_write(&core.db).await?;
        let marked = feedback::Entity::update_many()
            .col_expr(feedback::Column::RemindedAt, Expr::value(now))
            .filter(feedback::Column::Id.is_in(ids.clone()))
            .filter(feedback::Column::RemindedAt.is_null())
            .filter(feedback::Column::State.eq(State::Open))
            .exec(&txn)
            .await?
            .rows_affected;
        if marked == 0 {
            continue;
        }
        let secretaries = Secretaries::load(&txn).await?;
        let to: Vec<i64> = secretaries
            .nearest(Some(unit))
            .map(|(_, ids)| ids.to_vec())
            .unwrap_or_default();
        let unit_name = secretaries.unit_name(Some(unit));
        let mut broadcast = None;
        if !to.is_empty() {
            let mut body = format!(
                "以下写给{unit_name}的意见已超过 {days} 天未答复，请在“意见建议”中答复：\n\n"
            );
            for f in &rows {
                body.push_str(&format!("- {}\n", f.topic));
            }
            broadcast = Some(
                insert_notice(
                    &txn,
                    Notice {
                        unit_id: Some(unit),
                        title: format!("提醒：{unit_name}有 {} 条意见未答复", rows.len()),
                        summary: Some(format!("超过 {days} 天未答复")),
                        body_md: body,
                        channels: all_channels(core),
                        timezone: core.settings.timezone.name().to_string(),
                        to: to.clone(),
                    },
                    now,
                )
                .await?,
            );
        }
        audit::append(
            &txn,
            now,
            &Who::system(),
            Event::new("feedback.remind")
                .target("unit", unit)
                .summary(json!({"feedback": ids, "secretaries": to.len()})),
        )
        .await?;
        txn.commit().await?;
        if let Some(b) = broadcast {
            wake(core, b).await;
            sent += 1;
        }
    }
    Ok(sent)
}
