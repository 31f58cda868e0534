//! Required reading that escalates: the ladder of a broadcast with a `read_by` deadline.
//!
//! By default (`Ladder::default`) three steps, each at most once per occurrence:
//! 1. **remind**: 24 h before the deadline, a reminder push to every active member who has not
//!    read it (when the broadcast went out less than that before the deadline: halfway between
//!    the send and the deadline);
//! 2. **urgent**: at the deadline, an urgent push to those still not reading;
//! 3. **summary**: at the deadline, to each unit's secretary (the nearest up the tree when the
//!    unit has none), a notice listing that unit's non-readers.
//!
//! A step runs in one transaction with its row in `broadcast_steps` (unique by broadcast,
//! occurrence and step), its pushes or summaries, its audit entry and the broadcast's next due
//! time (`ladder_next_at`), so it runs once whatever restarts or runs at the same time
//! ([`run::run_due`]). Who has read by then gets nothing, and a reminder whose member reads
//! before the push worker reaches it is skipped there.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Violations;

pub mod run;
mod summary;
pub mod view;

pub use run::run_due;
pub use view::{StepState, StepView, SummaryUnit, steps};

crate::words! {
    /// A step of the ladder. Stored in `broadcast_steps.step`.
    pub enum Step {
        /// A reminder push before the deadline.
        Remind = "remind",
        /// An urgent push at the deadline.
        Urgent = "urgent",
        /// The non-readers listed to their units' secretaries at the deadline.
        Summary = "summary",
    }
}

/// A broadcast's ladder, stored in `broadcasts.ladder`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult,
)]
pub struct Ladder {
    /// How long before the deadline the reminder goes; `None`: no reminder.
    pub remind_before_minutes: Option<i32>,
    /// Whether an urgent push goes to the non-readers at the deadline.
    pub urgent: bool,
    /// Whether each unit's secretary gets the list of its non-readers at the deadline.
    pub summary: bool,
}

/// A day before the deadline.
pub const DEFAULT_REMIND_BEFORE_MINUTES: i32 = 24 * 60;
/// From ten minutes to thirty days before the deadline.
pub const REMIND_BEFORE_RANGE: std::ops::RangeInclusive<i32> = 10..=30 * 24 * 60;

impl Default for Ladder {
    fn default() -> Self {
        Self {
            remind_before_minutes: Some(DEFAULT_REMIND_BEFORE_MINUTES),
            urgent: true,
            summary: true,
        }
    }
}

impl Ladder {
    /// The ladder that runs nothing.
    pub const NONE: Ladder = Ladder {
        remind_before_minutes: None,
        urgent: false,
        summary: false,
    };

    pub fn check(&self, v: &mut Violations) {
        if let Some(m) = self.remind_before_minutes {
            v.check(
                REMIND_BEFORE_RANGE.contains(&m),
                "ladder.remind_before_minutes",
                "must be from 10 minutes to 30 days (43200)",
            );
        }
    }

    /// The steps in order, each with when it is due, for a broadcast sent at `send_at` with
    /// the deadline `read_by`.
    pub fn plan(
        &self,
        send_at: DateTime<Utc>,
        read_by: DateTime<Utc>,
    ) -> Vec<(Step, DateTime<Utc>)> {
        let mut out = Vec::with_capacity(3);
        if let Some(m) = self.remind_before_minutes {
            let at = read_by - Duration::minutes(i64::from(m));
            let at = if at > send_at {
                at
            } else {
                send_at + (read_by - send_at) / 2
            };
            out.push((Step::Remind, at));
        }
        if self.urgent {
            out.push((Step::Urgent, read_by));
        }
        if self.summary {
            out.push((Step::Summary, read_by));
        }
        out
    }
}

/// A ladder given by a client: within bounds, and only beside a deadline.
pub fn check_input(ladder: Option<&Ladder>, read_by: Option<DateTime<Utc>>, v: &mut Violations) {
    let Some(l) = ladder else { return };
    l.check(v);
    if read_by.is_none() && *l != Ladder::NONE {
        v.add(
            "ladder",
            "needs read_by: the ladder escalates towards that deadline",
        );
    }
}

/// What a broadcast stores: the ladder (the default when the client gave none) and when its
/// first step is due; nothing without a deadline.
pub fn stored(
    ladder: Option<Ladder>,
    send_at: DateTime<Utc>,
    read_by: Option<DateTime<Utc>>,
) -> (Option<Ladder>, Option<DateTime<Utc>>) {
    let Some(read_by) = read_by else {
        return (None, None);
    };
    let ladder = ladder.unwrap_or_default();
    let first = ladder.plan(send_at, read_by).first().map(|(_, at)| *at);
    (Some(ladder), first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap()
    }

    #[test]
    fn the_default_reminds_a_day_before_then_escalates_at_the_deadline() {
        let plan = Ladder::default().plan(at(0), at(72));
        assert_eq!(
            plan,
            vec![
                (Step::Remind, at(48)),
                (Step::Urgent, at(72)),
                (Step::Summary, at(72))
            ]
        );
    }

    #[test]
    fn a_short_deadline_is_reminded_halfway() {
        let plan = Ladder::default().plan(at(0), at(10));
        assert_eq!(plan[0], (Step::Remind, at(5)));
    }

    #[test]
    fn steps_turned_off_are_not_planned() {
        assert!(Ladder::NONE.plan(at(0), at(10)).is_empty());
        let only_summary = Ladder {
            summary: true,
            ..Ladder::NONE
        };
        assert_eq!(
            only_summary.plan(at(0), at(10)),
            vec![(Step::Summary, at(10))]
        );
        assert_eq!(stored(None, at(0), None), (None, None));
        assert_eq!(
            stored(Some(Ladder::NONE), at(0), Some(at(10))),
            (Some(Ladder::NONE), None)
        );
    }

    #[test]
    fn the_reminder_lead_is_bounded() {
        for (m, ok) in [(9, false), (10, true), (43_200, true), (43_201, false)] {
            let mut v = Violations::new();
            Ladder {
                remind_before_minutes: Some(m),
                ..Ladder::default()
            }
            .check(&mut v);
            assert_eq!(v.finish().is_ok(), ok, "{m}");
        }
    }
}
