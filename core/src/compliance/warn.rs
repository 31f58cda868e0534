//! The workers' sweep: a unit's secretaries are told, once per rule and period, when a period
//! is about to close with its rule not met.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::calendar::{Span, spans, year_of};
use super::report::{YearMeeting, applies, judge, meetings_between, unit_is};
use super::{PeriodReport, RuleView, State, rules};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::broadcasts::service::{Notice, all_channels, insert_notice, wake};
use crate::entities::compliance_warnings;
use crate::error::CoreResult;
use crate::meetings::kind_label;
use crate::org::UnitTree;
use crate::org::secretaries::Secretaries;

/// Sends the warnings that are due. Returns how many were sent (or recorded with nobody to
/// tell).
pub async fn warn_due(core: &Core) -> CoreResult<u64> {
    let rules: Vec<RuleView> = rules::load(&core.db)
        .await?
        .into_iter()
        .filter(|r| r.warn_days > 0)
        .collect();
    if rules.is_empty() {
        return Ok(0);
    }
    let now = core.now();
    let tz = core.settings.timezone;
    let year = year_of(now, tz);
    // The periods now running, one per rule.
    let current: Vec<(&RuleView, Span)> = rules
        .iter()
        .filter_map(|r| {
            let s = spans(r.period, year, tz)
                .into_iter()
                .find(|s| s.starts_at <= now && now < s.ends_at)?;
            (s.ends_at - now <= Duration::days(i64::from(r.warn_days))).then_some((r, s))
        })
        .collect();
    if current.is_empty() {
        return Ok(0);
    }
    let from = current
        .iter()
        .map(|(_, s)| s.starts_at)
        .min()
        .unwrap_or(now);
    let to = current.iter().map(|(_, s)| s.ends_at).max().unwrap_or(now);
    let meetings = meetings_between(&core.db, None, from, to).await?;
    // Only the running periods' warnings: the table grows by a few rows a unit a month.
    let keys: Vec<String> = current.iter().map(|(_, s)| s.key.clone()).collect();
    let warned: std::collections::HashSet<(i64, String, String)> =
        compliance_warnings::Entity::find()
            .filter(compliance_warnings::Column::PeriodKey.is_in(keys))
            .all(&core.db)
            .await?
            .into_iter()
            .map(|w| (w.unit_id, w.kind.as_str().to_string(), w.period_key))
            .collect();
    let tree = UnitTree::load(&core.db).await?;
    let mut units: Vec<i64> = tree.units.keys().copied().collect();
    units.sort_unstable();
    let mut sent = 0;
    for unit in units {
        let is = unit_is(&tree, unit);
        let of_unit: Vec<&YearMeeting> = meetings.iter().filter(|m| m.unit_id == unit).collect();
        for (rule, span) in &current {
            if !applies(rule, is)
                || warned.contains(&(unit, rule.kind.as_str().to_string(), span.key.clone()))
            {
                continue;
            }
            let p = judge(rule, span, &of_unit, now);
            if p.state != State::Due {
                continue;
            }
            if warn(core, unit, rule, &p, tz, now).await? {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// One warning, in one transaction with its row (the row first: a second worker's insert
/// finds it and sends nothing). Returns whether this call sent it.
async fn warn(
    core: &Core,
    unit: i64,
    rule: &RuleView,
    p: &PeriodReport,
    tz: Tz,
    now: DateTime<Utc>,
) -> CoreResult<bool> {
    let txn = crate::db::begin_write(&core.db).await?;
    let secretaries = Secretaries::load(&txn).await?;
    let to: Vec<i64> = secretaries
        .nearest(Some(unit))
        .map(|(_, ids)| ids.to_vec())
        .unwrap_or_default();
    let inserted = compliance_warnings::Entity::insert(compliance_warnings::ActiveModel {
        unit_id: Set(unit),
        kind: Set(rule.kind),
        period_key: Set(p.key.clone()),
        sent_at: Set(now),
        secretaries: Set(i32::try_from(to.len()).unwrap_or(i32::MAX)),
    })
    .on_conflict(
        OnConflict::columns([
            compliance_warnings::Column::UnitId,
            compliance_warnings::Column::Kind,
            compliance_warnings::Column::PeriodKey,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let unit_name = secretaries.unit_name(Some(unit));
    let label = kind_label(rule.kind);
    let mut broadcast = None;
    if !to.is_empty() {
        let notice = Notice {
            unit_id: Some(unit),
            title: format!("提醒：{unit_name}{}尚未召开{label}", p.label),
            summary: Some(format!("还剩 {} 天", p.days_left.unwrap_or(0))),
            body_md: body(&unit_name, rule, p, tz),
            channels: all_channels(core),
            timezone: tz.name().to_string(),
            to: to.clone(),
        };
        broadcast = Some(insert_notice(&txn, notice, now).await?);
    }
    audit::append(
        &txn,
        now,
        &Who::system(),
        Event::new("compliance.warn")
            .target("unit", unit)
            .summary(json!({
                "kind": rule.kind.as_str(),
                "period": p.key,
                "held": p.held.len(),
                "min_count": rule.min_count,
                "days_left": p.days_left,
                "secretaries": to,
            })),
    )
    .await?;
    txn.commit().await?;
    if let Some(id) = broadcast {
        wake(core, id).await;
    }
    tracing::info!(unit.id = unit, kind = rule.kind.as_str(), period = %p.key, "calendar warning sent");
    Ok(true)
}

fn body(unit: &str, rule: &RuleView, p: &PeriodReport, tz: Tz) -> String {
    let every = match rule.period {
        super::Period::Month => "每月",
        super::Period::Quarter => "每季度",
        super::Period::Year => "每年",
    };
    let last_day = (p.ends_at - Duration::seconds(1))
        .with_timezone(&tz)
        .format("%m月%d日");
    let mut out = format!(
        "按组织生活制度，{unit}{every}应召开{}至少 {} 次。{}（截至{last_day}）已召开 {} 次，还剩 {} 天。",
        kind_label(rule.kind),
        rule.min_count,
        p.label,
        p.held.len(),
        p.days_left.unwrap_or(0),
    );
    if p.planned.is_empty() {
        out.push_str("\n\n请及时安排。");
    } else {
        out.push_str("\n\n已安排：");
        for m in &p.planned {
            out.push_str(&format!(
                "\n- {}（{}）",
                m.title,
                m.starts_at.with_timezone(&tz).format("%m月%d日 %H:%M")
            ));
        }
    }
    out
}
