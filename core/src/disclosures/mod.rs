//! Opening Party affairs with review (党务公开; DOMAIN.md): a post of kind `disclosure` goes
//! draft → submitted → reviewed (including the check that nothing secret is disclosed; the
//! reviewer may send it back with a reason) → approved → published to its scope. Each step is
//! an audit entry with its actor, and the published disclosures form an archive per unit and
//! year that members read (the public ones without signing in).
//!
//! A disclosure post goes out only this way: a broadcast of one is refused
//! (`broadcasts::service::create`), and its text cannot change once submitted (`posts::patch`).
//!
//! The modules: `model` (the words), `review` (the steps), `archive` (reading what is
//! published). Rules: docs/disclosure.md.

pub mod archive;
mod model;
pub mod review;

pub use model::{Category, Scope, Status};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{disclosures, posts};
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

/// A disclosure as its managers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureView {
    pub id: i64,
    pub post_id: i64,
    pub title: String,
    pub unit_id: i64,
    pub unit_name: String,
    pub category: Category,
    pub scope: Scope,
    pub year: i32,
    pub status: Status,
    pub submitted_by: Option<i64>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<i64>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub broadcast_id: Option<i64>,
    pub returned_by: Option<i64>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn view(tree: &UnitTree, d: disclosures::Model, title: String) -> DisclosureView {
    DisclosureView {
        unit_name: tree
            .units
            .get(&d.unit_id)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        id: d.id,
        post_id: d.post_id,
        title,
        unit_id: d.unit_id,
        category: d.category,
        scope: d.scope,
        year: d.year,
        status: d.status,
        submitted_by: d.submitted_by,
        submitted_at: d.submitted_at,
        reviewed_by: d.reviewed_by,
        reviewed_at: d.reviewed_at,
        review_note: d.review_note,
        approved_by: d.approved_by,
        approved_at: d.approved_at,
        published_by: d.published_by,
        published_at: d.published_at,
        broadcast_id: d.broadcast_id,
        returned_by: d.returned_by,
        returned_at: d.returned_at,
        return_reason: d.return_reason,
        created_by: d.created_by,
        created_at: d.created_at,
    }
}

/// The post of a disclosure.
pub(crate) async fn post_of<C: ConnectionTrait>(
    db: &C,
    d: &disclosures::Model,
) -> CoreResult<posts::Model> {
    posts::Entity::find_by_id(d.post_id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("post"))
}

/// Whether a post may go out in an ordinary broadcast: not a disclosure, which goes out only
/// through its review (409 otherwise).
pub fn check_broadcastable(post: &posts::Model) -> CoreResult<()> {
    if post.kind == crate::posts::PostKind::Disclosure {
        return Err(CoreError::Conflict(
            "a disclosure is published through its review: POST /api/v1/admin/disclosures with this post, then submit, review, approve and publish it".into(),
        ));
    }
    Ok(())
}

/// Whether a post may be a meeting's lesson (re-sent as make-up study): not a disclosure,
/// which goes out only through its review (400 naming `post_id`).
pub fn check_lesson(post: &posts::Model) -> CoreResult<()> {
    if post.kind == crate::posts::PostKind::Disclosure {
        return Err(CoreError::invalid(
            "post_id",
            "a disclosure cannot be a meeting's lesson: it goes out only through its review",
        ));
    }
    Ok(())
}

/// Whether a post's text may change: not while its disclosure is on its way or published
/// (409), nor may a disclosure's post stop being one.
pub async fn check_editable<C: ConnectionTrait>(
    db: &C,
    post: &posts::Model,
    new_kind: Option<crate::posts::PostKind>,
) -> CoreResult<()> {
    let Some(d) = disclosures::Entity::find()
        .filter(disclosures::Column::PostId.eq(post.id))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    if d.status != Status::Draft {
        return Err(CoreError::Conflict(format!(
            "the disclosure of this post is {}: its text is fixed (a reviewer may send it back to draft)",
            d.status
        )));
    }
    if new_kind.is_some_and(|k| k != crate::posts::PostKind::Disclosure) {
        return Err(CoreError::Conflict(
            "this post is a disclosure under review; it stays one".into(),
        ));
    }
    Ok(())
}
