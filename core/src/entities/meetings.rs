use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: crate::meetings::MeetingKind,
    pub title: String,
    pub unit_id: Option<i64>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    /// The invited audience as the admin chose it (an `Audience`).
    pub audience: crate::audience::Audience,
    /// The lesson taught (re-sent as make-up study).
    pub post_id: Option<i64>,
    pub timezone: String,
    /// Minutes before the start at which reminders go out.
    pub reminder_offsets: crate::meetings::ReminderOffsets,
    /// `scheduled` or `canceled`.
    pub status: crate::meetings::MeetingStatus,
    pub notice_broadcast_id: Option<i64>,
    pub minutes_md: Option<String>,
    pub minutes_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The series this meeting is an occurrence of (unique with `starts_at`).
    pub series_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::meeting_invitees::Entity")]
    Invitees,
    #[sea_orm(has_many = "super::meeting_broadcasts::Entity")]
    Broadcasts,
}

impl Related<super::meeting_invitees::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Invitees.def()
    }
}

impl Related<super::meeting_broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcasts.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
