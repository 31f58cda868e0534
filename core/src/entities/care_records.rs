//! A visit to or a talk with a member (migration m0019); its notes are for the unit's managers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_id: i64,
    /// The member's unit when it was recorded: whose managers read it.
    pub unit_id: Option<i64>,
    pub kind: crate::care::CareKind,
    /// A code of `care_categories` of that kind.
    pub category: String,
    pub happened_on: Date,
    /// The members who went.
    pub visitors: crate::care::Visitors,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
