use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub unit_id: Option<i64>,
    pub role: crate::auth::Role,
    pub phone: Option<String>,
    pub wecom_userid: Option<String>,
    pub wechat_openid: Option<String>,
    pub invite_code: Option<String>,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::units::Entity",
        from = "Column::UnitId",
        to = "super::units::Column::Id",
        on_delete = "Cascade"
    )]
    Unit,
    #[sea_orm(has_many = "super::member_tags::Entity")]
    Tags,
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
    #[sea_orm(has_many = "super::inbox_items::Entity")]
    InboxItems,
    #[sea_orm(has_many = "super::push_deliveries::Entity")]
    PushDeliveries,
    #[sea_orm(has_many = "super::wechat_credits::Entity")]
    WechatCredits,
    #[sea_orm(has_many = "super::meeting_invitees::Entity")]
    MeetingInvitees,
}

impl Related<super::units::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl Related<super::member_tags::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tags.def()
    }
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
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

impl Related<super::wechat_credits::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WechatCredits.def()
    }
}

impl Related<super::meeting_invitees::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MeetingInvitees.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
