//! What was answered to a survey (migration m0020): no member, no unit, no time; the key is
//! random. See docs/surveys.md.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_ballots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub survey_id: i64,
    /// 32 random hex digits, drawn again each time the ballot is sealed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub answers: crate::surveys::Answers,
    /// Rewritten by a seal (with at least `min_group` others, or at the close).
    pub sealed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
