//! The calendar kept on time: the cadence of "three meetings and one lesson" and the rest
//! (DOMAIN.md), per unit and year.
//!
//! - `rules`: the organisation's cadence, one rule per meeting kind (how many a month, quarter
//!   or year; for which units; how many days ahead to warn), an admin's to change.
//! - `calendar`: the months, quarters and year in the organisation's zone.
//! - `report`: a unit's year, rule by rule and period by period: met (by which meetings), due
//!   (days left, meetings planned), missed, or not yet begun.
//! - `warn`: the workers' sweep that tells a unit's secretaries, once per rule and period, when
//!   a period is about to close with its rule not met.
//!
//! Rules as implemented: docs/compliance.md.

mod calendar;
mod model;
pub mod report;
pub mod rules;
pub mod warn;

pub use calendar::{Span, spans};
pub use model::{
    AppliesTo, CountedMeeting, Period, PeriodReport, Report, RuleReport, RuleView, State,
};
pub use report::report;
pub use warn::warn_due;
