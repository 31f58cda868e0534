use sea_orm::entity::prelude::*;

/// One admin write request: who, what (method and path), when, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// `None` when the request carried no valid token.
    pub actor_member_id: Option<i64>,
    pub actor_role: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
