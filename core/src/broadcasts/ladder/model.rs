//! The ladder's types: what a broadcast stores (`Ladder`), its steps and how they show. Plain
//! data with no service behind it, so that the broadcast's row and view can hold them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Violations;

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

crate::words! {
    /// Where a step of the ladder stands.
    pub enum StepState {
        /// Waiting for its time (or for the broadcast to go out).
        Planned = "planned",
        /// It ran: see `ran_at` and the counts.
        Ran = "ran",
        /// It will not run: the broadcast was canceled.
        Dropped = "dropped",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepView {
    pub step: Step,
    pub state: StepState,
    pub due_at: DateTime<Utc>,
    pub ran_at: Option<DateTime<Utc>>,
    /// Active members who had not read it when the step ran.
    pub unread: Option<i64>,
    /// Pushes queued (the reminders), or summaries sent (one per secretary).
    pub pushes: Option<i64>,
    /// The summary's units.
    pub units: Vec<SummaryUnit>,
}

/// A unit in a summary: its non-readers' count and whom the list went to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SummaryUnit {
    /// `None`: members without a unit.
    pub unit_id: Option<i64>,
    pub unit: String,
    pub unread: i64,
    /// The unit's secretaries, the nearest ones up the tree, or the broadcast's author; empty
    /// when nobody could be told.
    pub secretaries: Vec<i64>,
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
