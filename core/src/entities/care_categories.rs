//! An occasion for a visit or a talk (八必访, 八必谈), in the organisation's lists (migration
//! m0019).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: crate::care::CareKind,
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub label: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
