//! A member's own push preferences (migration m0016): quiet hours and the off-site digest.
//! Without a row, the organisation's defaults.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "member_push_prefs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// No quiet hours at all.
    pub quiet_off: bool,
    /// Own quiet hours (minutes of the local day); `None`: the organisation's.
    pub quiet_from: Option<i32>,
    pub quiet_until: Option<i32>,
    /// On assignment away from the office: non-urgent pushes gathered into a daily digest.
    pub off_site: bool,
    /// When the digest goes (a minute of the local day); `None`: the organisation's.
    pub digest_at: Option<i32>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::members::Entity",
        from = "Column::MemberId",
        to = "super::members::Column::Id",
        on_delete = "Cascade"
    )]
    Member,
}

impl Related<super::members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Member.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
