//! Who was asked to answer a survey and whether they have (migration m0020). No time and no
//! link to a ballot: see docs/surveys.md.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_participants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub survey_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub member_id: i64,
    /// The member's unit when the survey was published: participation is counted per unit.
    pub unit_id: Option<i64>,
    pub answered: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
