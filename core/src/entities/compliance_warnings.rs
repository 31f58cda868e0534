//! A warning sent to a unit's secretaries about a rule not yet met in a period (migration
//! m0017): one per (unit, kind, period).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "compliance_warnings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: crate::meetings::MeetingKind,
    /// `2026-03`, `2026-Q1` or `2026`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_key: String,
    pub sent_at: DateTimeUtc,
    /// Secretaries the warning went to (0: nobody to tell).
    pub secretaries: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
