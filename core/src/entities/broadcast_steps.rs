//! One step of a broadcast's required-reading ladder that ran (migration m0015): the reminder
//! before the deadline, the urgent push at it, or the summary to the secretaries. Unique by
//! (broadcast, occurrence, step), written in the transaction that did the step.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcast_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub broadcast_id: i64,
    pub occurrence: i64,
    pub step: crate::broadcasts::ladder::Step,
    /// When the step was due by the ladder.
    pub due_at: DateTimeUtc,
    pub ran_at: DateTimeUtc,
    /// Active members who had not read the broadcast when the step ran.
    pub unread: i64,
    /// Push deliveries queued (reminders), or summaries sent to secretaries.
    pub pushes: i64,
    /// The reminder round of `push_deliveries` the step queued, if any.
    pub round: Option<i32>,
    /// The summary's units: `[{"unit_id", "unread", "secretaries"}]`.
    pub detail: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::broadcasts::Entity",
        from = "Column::BroadcastId",
        to = "super::broadcasts::Column::Id",
        on_delete = "Cascade"
    )]
    Broadcast,
}

impl Related<super::broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcast.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
