//! The meeting calendar: a unit's year against the cadence, and the cadence's rules.

use chrono::{DateTime, Utc};
use fingertip_core::compliance::{
    AppliesTo, CountedMeeting, Period, PeriodReport, Report, RuleReport, RuleView, State,
};
use fingertip_core::meetings::MeetingKind;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::Id;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ComplianceQuery {
    /// The unit (one of the caller's scope).
    pub unit_id: Option<String>,
    /// Default: this year (in the organisation's zone).
    pub year: Option<i32>,
}

/// A cadence rule: at least `min_count` meetings of `kind` each `period`, for the units it
/// applies to; the secretary is warned `warn_days` before a period closes without them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceRuleBody {
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: MeetingKind,
    #[schema(value_type = super::enums::CompliancePeriodSchema)]
    pub period: Period,
    pub min_count: i32,
    #[schema(value_type = super::enums::AppliesToSchema)]
    pub applies_to: AppliesTo,
    pub warn_days: i32,
}

impl From<RuleView> for ComplianceRuleBody {
    fn from(r: RuleView) -> Self {
        ComplianceRuleBody {
            kind: r.kind,
            period: r.period,
            min_count: r.min_count,
            applies_to: r.applies_to,
            warn_days: r.warn_days,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceRulesResponse {
    pub rules: Vec<ComplianceRuleBody>,
}

/// One rule as given; the set replaces every rule (a kind left out has none).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceRuleInput {
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: String,
    #[schema(value_type = super::enums::CompliancePeriodSchema)]
    pub period: String,
    #[schema(minimum = 1, maximum = 31)]
    pub min_count: i32,
    /// Default `branch`.
    #[schema(value_type = Option<super::enums::AppliesToSchema>)]
    pub applies_to: Option<String>,
    /// Days before a period closes to warn the secretary; 0: never. Default 7.
    #[schema(minimum = 0, maximum = 90)]
    pub warn_days: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceRulesRequest {
    #[schema(max_items = 9)]
    pub rules: Vec<ComplianceRuleInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountedMeetingBody {
    #[schema(value_type = String)]
    pub id: Id,
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

impl From<CountedMeeting> for CountedMeetingBody {
    fn from(m: CountedMeeting) -> Self {
        CountedMeetingBody {
            id: Id(m.id),
            title: m.title,
            starts_at: m.starts_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompliancePeriodBody {
    /// `2026-03`, `2026-Q1` or `2026`.
    pub key: String,
    /// 3月, 第一季度, 全年.
    pub label: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[schema(value_type = super::enums::ComplianceStateSchema)]
    pub state: State,
    /// The meetings held in the period (they make it met).
    pub held: Vec<CountedMeetingBody>,
    /// Meetings scheduled in the period and not yet over.
    pub planned: Vec<CountedMeetingBody>,
    /// While due: whole days until the period closes.
    pub days_left: Option<i64>,
}

impl From<PeriodReport> for CompliancePeriodBody {
    fn from(p: PeriodReport) -> Self {
        CompliancePeriodBody {
            key: p.key,
            label: p.label,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            state: p.state,
            held: p.held.into_iter().map(Into::into).collect(),
            planned: p.planned.into_iter().map(Into::into).collect(),
            days_left: p.days_left,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceRuleReportBody {
    pub rule: ComplianceRuleBody,
    /// 支部党员大会, 党课, …
    pub label: String,
    pub periods: Vec<CompliancePeriodBody>,
}

impl From<RuleReport> for ComplianceRuleReportBody {
    fn from(r: RuleReport) -> Self {
        ComplianceRuleReportBody {
            rule: r.rule.into(),
            label: r.label.to_string(),
            periods: r.periods.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceResponse {
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub unit: String,
    pub year: i32,
    /// Whether the unit counts as a branch or a group for the rules.
    #[schema(value_type = super::enums::AppliesToSchema)]
    pub unit_is: AppliesTo,
    pub rules: Vec<ComplianceRuleReportBody>,
    /// Periods missed so far, over all rules.
    pub missed: usize,
}

impl From<Report> for ComplianceResponse {
    fn from(r: Report) -> Self {
        ComplianceResponse {
            unit_id: Id(r.unit_id),
            unit: r.unit,
            year: r.year,
            unit_is: r.unit_is,
            rules: r.rules.into_iter().map(Into::into).collect(),
            missed: r.missed,
        }
    }
}
