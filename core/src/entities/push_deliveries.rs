use sea_orm::entity::prelude::*;

/// One push of one occurrence (and round: 0 the send, n the n-th reminder) to one member on
/// one channel. `status` is `pending`, `sending`, `sent`, `skipped`, `dead` or `unknown`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "push_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub broadcast_id: i64,
    pub occurrence: i64,
    pub round: i32,
    pub member_id: i64,
    /// `wechat` or `wecom` (never `inbox`: the inbox row is the delivery).
    pub channel: crate::broadcasts::Channel,
    pub status: crate::push::DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error_code: Option<i64>,
    pub last_error: Option<String>,
    /// The platform's message id once it accepted the send.
    pub msgid: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
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
    #[sea_orm(
        belongs_to = "super::members::Entity",
        from = "Column::MemberId",
        to = "super::members::Column::Id",
        on_delete = "Cascade"
    )]
    Member,
}

impl Related<super::broadcasts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcast.def()
    }
}

impl Related<super::members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Member.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
