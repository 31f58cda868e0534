use sea_orm::entity::prelude::*;

/// A member's unread rows up to `counted_upto`, kept by triggers on `inbox_items` in the
/// transaction of every statement that reads or removes inbox rows, and by the fold
/// (`inbox::unread`, migrations `m0009_inbox_unread` and `m0023_unread_folded`). The member's
/// count is `unread` plus their unread rows above `counted_upto`; no row counts nothing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "inbox_unread")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    pub unread: i64,
    pub counted_upto: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
