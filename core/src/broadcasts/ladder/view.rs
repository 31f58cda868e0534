//! A broadcast's ladder as its page shows it: each step planned, what ran, when, to how many.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::Step;
use crate::broadcasts::Status;
use crate::entities::{broadcast_steps, broadcasts};
use crate::error::CoreResult;

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

/// The ladder's steps of a broadcast's current occurrence, in order; empty without a ladder.
pub async fn steps(db: &impl ConnectionTrait, b: &broadcasts::Model) -> CoreResult<Vec<StepView>> {
    let (Some(ladder), Some(read_by)) = (b.ladder, b.read_by) else {
        return Ok(vec![]);
    };
    let ran = broadcast_steps::Entity::find()
        .filter(broadcast_steps::Column::BroadcastId.eq(b.id))
        .filter(broadcast_steps::Column::Occurrence.eq(b.occurrence))
        .all(db)
        .await?;
    let over = matches!(b.status, Status::Canceled | Status::Failed);
    Ok(ladder
        .plan(b.send_at, read_by)
        .into_iter()
        .map(|(step, due_at)| match ran.iter().find(|r| r.step == step) {
            Some(r) => StepView {
                step,
                state: StepState::Ran,
                due_at: r.due_at,
                ran_at: Some(r.ran_at),
                unread: Some(r.unread),
                pushes: Some(r.pushes),
                units: r
                    .detail
                    .clone()
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default(),
            },
            None => StepView {
                step,
                state: if over {
                    StepState::Dropped
                } else {
                    StepState::Planned
                },
                due_at,
                ran_at: None,
                unread: None,
                pushes: None,
                units: vec![],
            },
        })
        .collect())
}
