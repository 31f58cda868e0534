use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_invitees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meeting_id: i64,
    pub member_id: i64,
    /// `none`, `attending` or `leave`.
    pub answer: crate::meetings::Answer,
    pub reason: Option<String>,
    pub answered_at: Option<DateTimeUtc>,
    /// `present`, `late`, `absent` (recorded by hand) or `None` (no check-in).
    pub attendance: Option<crate::meetings::Attendance>,
    pub checked_in_at: Option<DateTimeUtc>,
    /// `code` or `manual`.
    pub check_in_method: Option<crate::meetings::CheckInMethod>,
    pub recorded_by: Option<i64>,
    /// Wrong check-in codes entered; after `MAX_CHECKIN_FAILURES` the member must be
    /// recorded by hand (a 6-digit code must not be guessable by scripting).
    pub checkin_failures: i32,
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
        belongs_to = "super::members::Entity",
        from = "Column::MemberId",
        to = "super::members::Column::Id",
        on_delete = "Cascade"
    )]
    Member,
}

impl Related<super::meetings::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Meeting.def()
    }
}

impl Related<super::members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Member.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
