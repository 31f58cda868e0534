use sea_orm::entity::prelude::*;

/// A member's unread count, kept by triggers on `inbox_items` in the transaction of every
/// statement that changes the inbox (migration `m0009_inbox_unread`); never written by code.
/// No row means none unread.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_unread")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    pub unread: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
