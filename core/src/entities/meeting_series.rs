use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: crate::meetings::MeetingKind,
    pub title: String,
    pub unit_id: Option<i64>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    /// The invited audience of every occurrence (an `Audience`).
    pub audience: crate::audience::Audience,
    pub post_id: Option<i64>,
    pub reminder_offsets: crate::meetings::ReminderOffsets,
    pub timezone: String,
    /// The RRULE, evaluated in `timezone` from `starts_at`.
    pub recurrence: String,
    pub starts_at: DateTimeUtc,
    /// How long before each occurrence its meeting (and notice) is created.
    pub notice_lead_minutes: i32,
    /// Start of the next occurrence not yet materialized; `None` once the rule has ended.
    pub next_at: Option<DateTimeUtc>,
    /// `next_at` minus the notice lead: when the workers create that occurrence's meeting.
    /// Kept beside `next_at` so that the sweep is one indexed comparison.
    pub materialize_at: Option<DateTimeUtc>,
    /// `active` or `canceled`.
    pub status: crate::meetings::SeriesStatus,
    /// The worker materializing the series, and until when its claim holds.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
