//! One reading session of an inbox item on one device (migration m0014).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "study_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub inbox_item_id: i64,
    /// The client's random key for this opening of the item.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_key: String,
    pub member_id: i64,
    pub started_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
