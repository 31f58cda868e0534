use sea_orm::entity::prelude::*;

/// A broadcast sent for a meeting: the notice, a change or cancellation, a reminder, a nudge, a
/// make-up study task.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_broadcasts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub broadcast_id: i64,
    pub meeting_id: i64,
    /// `notice`, `change`, `cancel`, `reminder`, `nudge` or `make_up`.
    pub purpose: crate::meetings::Purpose,
    /// For reminders and nudges: minutes before the start.
    pub offset_minutes: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::meetings::Entity",
        from = "Column::MeetingId",
        to = "super::meetings::Column::Id",
        on_delete = "Cascade"
    )]
    Meeting,
    #[sea_orm(
        belongs_to = "super::broadcasts::Entity",
        from = "Column::BroadcastId",
        to = "super::broadcasts::Column::Id",
        on_delete = "Cascade"
    )]
    Broadcast,
}

impl Related<super::meetings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meeting.def()
    }
}

impl Related<super::broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcast.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
