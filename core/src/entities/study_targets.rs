//! Yearly study targets (migration m0014): `default` (value ""), `role` or `tag`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "study_targets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub rule: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub value: String,
    pub minutes: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
