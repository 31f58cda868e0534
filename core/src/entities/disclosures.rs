//! A disclosure's way through review (migration m0022): one per post of kind `disclosure`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub post_id: i64,
    /// Whose affairs it discloses: its managers propose, review and publish it.
    pub unit_id: i64,
    pub category: crate::disclosures::Category,
    pub scope: crate::disclosures::Scope,
    /// The year it belongs to in the archive.
    pub year: i32,
    pub status: crate::disclosures::Status,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub review_note: Option<String>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTimeUtc>,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTimeUtc>,
    pub broadcast_id: Option<i64>,
    /// The last time it was sent back to draft, by whom and why.
    pub returned_by: Option<i64>,
    pub returned_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub return_reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
