//! A broadcast's ladder as its page shows it: each step planned, what ran, when, to how many.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{StepState, StepView};
use crate::broadcasts::Status;
use crate::entities::{broadcast_steps, broadcasts};
use crate::error::CoreResult;

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
