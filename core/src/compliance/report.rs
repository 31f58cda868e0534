//! A unit's year against the cadence: rule by rule, period by period.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::calendar::{Span, spans, year_of};
use super::{AppliesTo, CountedMeeting, PeriodReport, Report, RuleReport, RuleView, State, rules};
use crate::Core;
use crate::auth::Actor;
use crate::entities::meetings;
use crate::error::{CoreError, CoreResult};
use crate::meetings::{MeetingKind, MeetingStatus, kind_label};
use crate::org::UnitTree;

/// A meeting of the year, as the calendar needs it.
#[derive(Debug, Clone, FromQueryResult)]
pub(super) struct YearMeeting {
    pub id: i64,
    pub unit_id: i64,
    pub kind: MeetingKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Whether a unit counts as a branch or a group: a group is below another unit with none
/// below it.
pub(super) fn unit_is(tree: &UnitTree, unit: i64) -> AppliesTo {
    let below_one = tree.units.get(&unit).is_some_and(|u| u.parent_id.is_some());
    if below_one && tree.children(unit).is_empty() {
        AppliesTo::Group
    } else {
        AppliesTo::Branch
    }
}

pub(super) fn applies(rule: &RuleView, unit: AppliesTo) -> bool {
    rule.applies_to == AppliesTo::Any || rule.applies_to == unit
}

/// The meetings not canceled that start in `[from, to)`, of one unit or of all.
pub(super) async fn meetings_between(
    db: &impl ConnectionTrait,
    unit: Option<i64>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CoreResult<Vec<YearMeeting>> {
    let mut q = meetings::Entity::find()
        .select_only()
        .columns([
            meetings::Column::Id,
            meetings::Column::UnitId,
            meetings::Column::Kind,
            meetings::Column::Title,
            meetings::Column::StartsAt,
            meetings::Column::EndsAt,
        ])
        .filter(meetings::Column::Status.ne(MeetingStatus::Canceled))
        .filter(meetings::Column::StartsAt.gte(from))
        .filter(meetings::Column::StartsAt.lt(to))
        .order_by_asc(meetings::Column::StartsAt);
    if let Some(u) = unit {
        q = q.filter(meetings::Column::UnitId.eq(u));
    }
    Ok(q.into_model::<YearMeeting>().all(db).await?)
}

/// One period of a rule, from the unit's meetings of that rule's kind.
pub(super) fn judge(
    rule: &RuleView,
    span: &Span,
    meetings: &[&YearMeeting],
    now: DateTime<Utc>,
) -> PeriodReport {
    let mut held = vec![];
    let mut planned = vec![];
    for m in meetings.iter().filter(|m| {
        m.kind == rule.kind && span.starts_at <= m.starts_at && m.starts_at < span.ends_at
    }) {
        let c = CountedMeeting {
            id: m.id,
            title: m.title.clone(),
            starts_at: m.starts_at,
            held: m.ends_at <= now,
        };
        if c.held {
            held.push(c);
        } else {
            planned.push(c);
        }
    }
    let enough = i32::try_from(held.len()).unwrap_or(i32::MAX) >= rule.min_count;
    let state = if enough {
        State::Met
    } else if span.starts_at > now {
        State::Upcoming
    } else if span.ends_at <= now {
        State::Missed
    } else {
        State::Due
    };
    PeriodReport {
        key: span.key.clone(),
        label: span.label.clone(),
        starts_at: span.starts_at,
        ends_at: span.ends_at,
        state,
        days_left: (state == State::Due).then(|| (span.ends_at - now).num_days()),
        held,
        planned,
    }
}

/// A unit's year (admins, and secretaries for units in their subtree).
pub async fn report(
    core: &Core,
    actor: &Actor,
    unit_id: i64,
    year: Option<i32>,
) -> CoreResult<Report> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let unit = tree
        .units
        .get(&unit_id)
        .filter(|_| tree.scope_of(actor).owns(Some(unit_id)))
        .ok_or(CoreError::NotFound("unit"))?;
    let tz = core.settings.timezone;
    let now = core.now();
    let year = year.unwrap_or_else(|| year_of(now, tz));
    if !(2000..=2100).contains(&year) {
        return Err(CoreError::invalid("year", "must be from 2000 to 2100"));
    }
    let whole = spans(super::Period::Year, year, tz).remove(0);
    let list = meetings_between(&core.db, Some(unit_id), whole.starts_at, whole.ends_at).await?;
    let mine: Vec<&YearMeeting> = list.iter().collect();
    let is = unit_is(&tree, unit_id);
    let rules: Vec<RuleReport> = rules::load(&core.db)
        .await?
        .into_iter()
        .filter(|r| applies(r, is))
        .map(|rule| RuleReport {
            label: kind_label(rule.kind),
            periods: spans(rule.period, year, tz)
                .iter()
                .map(|s| judge(&rule, s, &mine, now))
                .collect(),
            rule,
        })
        .collect();
    let missed = rules
        .iter()
        .flat_map(|r| &r.periods)
        .filter(|p| p.state == State::Missed)
        .count();
    Ok(Report {
        unit_id,
        unit: unit.name.clone(),
        year,
        unit_is: is,
        rules,
        missed,
    })
}
