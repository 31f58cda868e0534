//! Opening Party affairs with review (党务公开) on the wire.

use chrono::{DateTime, Utc};
use fingertip_core::disclosures::DisclosureView;
use fingertip_core::disclosures::archive::Entry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn};

/// A disclosure to start, from a post of kind `disclosure`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    pub post_id: IdIn,
    /// Whose affairs it discloses; default the post's unit, else the caller's.
    pub unit_id: Option<IdIn>,
    #[schema(value_type = super::enums::DisclosureCategorySchema)]
    pub category: String,
    #[schema(value_type = super::enums::DisclosureScopeSchema)]
    pub scope: String,
    /// Its year in the archive; default this year.
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// A draft's category, scope or year; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosurePatch {
    #[schema(value_type = Option<super::enums::DisclosureCategorySchema>)]
    pub category: Option<String>,
    #[schema(value_type = Option<super::enums::DisclosureScopeSchema>)]
    pub scope: Option<String>,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// The review: the secrecy check confirmed, and a note if wished.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// Nothing secret is disclosed (must be true; otherwise send it back with a reason).
    pub secrecy_checked: bool,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Why it goes back to draft.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub post_id: Id,
    pub title: String,
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub unit_name: String,
    #[schema(value_type = super::enums::DisclosureCategorySchema)]
    pub category: String,
    #[schema(value_type = super::enums::DisclosureScopeSchema)]
    pub scope: String,
    pub year: i32,
    #[schema(value_type = super::enums::DisclosureStatusSchema)]
    pub status: String,
    #[schema(value_type = Option<String>)]
    pub submitted_by: Option<Id>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub reviewed_by: Option<Id>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    #[schema(value_type = Option<String>)]
    pub approved_by: Option<Id>,
    pub approved_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub published_by: Option<Id>,
    pub published_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>)]
    pub broadcast_id: Option<Id>,
    /// The last time it was sent back to draft, by whom and why.
    #[schema(value_type = Option<String>)]
    pub returned_by: Option<Id>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    #[schema(value_type = Option<String>)]
    pub created_by: Option<Id>,
    pub created_at: DateTime<Utc>,
}

impl From<DisclosureView> for DisclosureResponse {
    fn from(d: DisclosureView) -> Self {
        Self {
            id: Id(d.id),
            post_id: Id(d.post_id),
            title: d.title,
            unit_id: Id(d.unit_id),
            unit_name: d.unit_name,
            category: d.category.as_str().to_string(),
            scope: d.scope.as_str().to_string(),
            year: d.year,
            status: d.status.as_str().to_string(),
            submitted_by: d.submitted_by.map(Id),
            submitted_at: d.submitted_at,
            reviewed_by: d.reviewed_by.map(Id),
            reviewed_at: d.reviewed_at,
            review_note: d.review_note,
            approved_by: d.approved_by.map(Id),
            approved_at: d.approved_at,
            published_by: d.published_by.map(Id),
            published_at: d.published_at,
            broadcast_id: d.broadcast_id.map(Id),
            returned_by: d.returned_by.map(Id),
            returned_at: d.returned_at,
            return_reason: d.return_reason,
            created_by: d.created_by.map(Id),
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DisclosureList {
    pub items: Vec<DisclosureResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DisclosureListQuery {
    /// Only this unit's subtree.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    /// draft, submitted, reviewed, approved or published.
    #[param(max_length = 16)]
    pub status: Option<String>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ArchiveQuery {
    /// Only this unit's subtree.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

/// A published disclosure in the archive.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveEntry {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub unit_name: String,
    #[schema(value_type = super::enums::DisclosureCategorySchema)]
    pub category: String,
    #[schema(value_type = super::enums::DisclosureScopeSchema)]
    pub scope: String,
    pub year: i32,
    pub title: String,
    pub summary: Option<String>,
    /// Markdown; empty in a list.
    pub body_md: String,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<Entry> for ArchiveEntry {
    fn from(e: Entry) -> Self {
        Self {
            id: Id(e.id),
            unit_id: Id(e.unit_id),
            unit_name: e.unit_name,
            category: e.category.as_str().to_string(),
            scope: e.scope.as_str().to_string(),
            year: e.year,
            title: e.title,
            summary: e.summary,
            body_md: e.body_md,
            published_at: e.published_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArchiveList {
    pub items: Vec<ArchiveEntry>,
}
