//! The calendar's words and views.

use chrono::{DateTime, Utc};

use crate::meetings::MeetingKind;

crate::words! {
    /// How often a rule's meetings are due. Stored in `compliance_rules.period`.
    pub enum Period {
        Month = "month",
        Quarter = "quarter",
        Year = "year",
    }
}

crate::words! {
    /// Which units a rule is for. Stored in `compliance_rules.applies_to`.
    pub enum AppliesTo {
        /// A branch: a unit with units below it, or with none above it.
        Branch = "branch",
        /// A party group: a unit below another with none below it.
        Group = "group",
        Any = "any",
    }
}

crate::words! {
    /// Where a rule stands in one period.
    pub enum State {
        /// Enough meetings were held.
        Met = "met",
        /// The period is running and not yet met.
        Due = "due",
        /// The period closed without enough meetings.
        Missed = "missed",
        /// The period has not begun.
        Upcoming = "upcoming",
    }
}

/// A rule as stored and edited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleView {
    pub kind: MeetingKind,
    pub period: Period,
    pub min_count: i32,
    pub applies_to: AppliesTo,
    pub warn_days: i32,
}

/// A meeting that counts (or will) towards a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedMeeting {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    /// Ended (not canceled): it counts. Otherwise it is planned.
    pub held: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodReport {
    /// `2026-03`, `2026-Q1` or `2026`.
    pub key: String,
    /// `3月`, `第一季度`, `全年`.
    pub label: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub state: State,
    /// Meetings held in the period.
    pub held: Vec<CountedMeeting>,
    /// Meetings scheduled in the period, not yet over.
    pub planned: Vec<CountedMeeting>,
    /// While due: whole days until the period closes (0 on its last day).
    pub days_left: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    pub rule: RuleView,
    /// 支部党员大会, …
    pub label: &'static str,
    pub periods: Vec<PeriodReport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub unit_id: i64,
    pub unit: String,
    pub year: i32,
    /// Whether the unit counts as a branch or a group for the rules.
    pub unit_is: AppliesTo,
    pub rules: Vec<RuleReport>,
    /// Periods missed so far, over all rules.
    pub missed: usize,
}
