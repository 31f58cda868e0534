//! The organisation's meeting cadence, one rule per meeting kind (migration m0017).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "compliance_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: crate::meetings::MeetingKind,
    pub period: crate::compliance::Period,
    /// Meetings of the kind a unit holds in each period, at least.
    pub min_count: i32,
    pub applies_to: crate::compliance::AppliesTo,
    /// Days before a period closes that its secretary is warned of an unmet rule (0: never).
    pub warn_days: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
