use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcasts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub audience: crate::audience::Audience,
    /// Always starts with `inbox`.
    pub channels: crate::broadcasts::Channels,
    pub status: crate::broadcasts::Status,
    pub send_at: DateTimeUtc,
    pub timezone: String,
    pub read_by: Option<DateTimeUtc>,
    pub urgent: bool,
    pub audience_size: i64,
    pub created_by: Option<i64>,
    /// The unit this belongs to (a secretary acts only within their subtree); `None` is
    /// organisation-wide.
    pub unit_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The worker holding the fan-out lease, while one does.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// The last member id fanned out; a worker taking over resumes after it.
    pub fanout_cursor: i64,
    /// An iCalendar RRULE evaluated in `timezone` from `send_at`; `None` for a one-off.
    pub recurrence: Option<String>,
    /// The occurrence that is due (`scheduled`) or being fanned out (`sending`); `None` once
    /// nothing is left to send.
    pub next_run_at: Option<DateTimeUtc>,
    /// The key of the occurrence being (or last) fanned out, written into its inbox rows:
    /// 0 for a one-off, the occurrence's Unix time for a recurring broadcast.
    pub occurrence: i64,
    pub occurrences_sent: i64,
    /// The required-reading ladder of a broadcast with `read_by`; `None` without one.
    pub ladder: Option<crate::broadcasts::ladder::Ladder>,
    /// When the ladder's next step is due; `None` once nothing is left to run.
    pub ladder_next_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::posts::Entity",
        from = "Column::PostId",
        to = "super::posts::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    #[sea_orm(has_many = "super::inbox_items::Entity")]
    InboxItems,
    #[sea_orm(has_many = "super::push_deliveries::Entity")]
    PushDeliveries,
    #[sea_orm(has_many = "super::meeting_broadcasts::Entity")]
    MeetingBroadcasts,
    #[sea_orm(has_many = "super::broadcast_steps::Entity")]
    Steps,
}

impl Related<super::posts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl Related<super::inbox_items::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::InboxItems.def()
    }
}

impl Related<super::push_deliveries::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PushDeliveries.def()
    }
}

impl Related<super::meeting_broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MeetingBroadcasts.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Related<super::broadcast_steps::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Steps.def()
    }
}
