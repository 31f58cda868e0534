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

pub mod run;
mod summary;
pub mod view;

mod model;
pub use model::{
    DEFAULT_REMIND_BEFORE_MINUTES, Ladder, REMIND_BEFORE_RANGE, Step, StepState, StepView,
    SummaryUnit, check_input, stored,
};
pub use run::run_due;
pub use view::steps;

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::error::Violations;

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
