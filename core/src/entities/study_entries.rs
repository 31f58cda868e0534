//! Credited study (migration m0014): reading, one row per inbox item, and offline study
//! recorded by an admin.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "study_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_id: i64,
    pub year: i32,
    pub kind: crate::study::StudyKind,
    /// The inbox item of a reading row; `None` for offline study.
    pub ref_id: Option<i64>,
    pub title: String,
    pub seconds: i64,
    /// Reading: the last instant already counted for the item, by any device.
    pub credited_until: Option<DateTimeUtc>,
    pub note: Option<String>,
    pub recorded_by: Option<i64>,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
