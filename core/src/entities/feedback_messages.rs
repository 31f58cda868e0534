//! A message of a feedback thread (migration m0021): the writer's or a manager's.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub feedback_id: i64,
    /// The thread's writer (else one of the unit's managers).
    pub from_writer: bool,
    /// Who wrote it; `None` for an anonymous writer.
    pub author_id: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// An anonymous writer's message: the start of its day.
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
