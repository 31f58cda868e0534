use chrono::{DateTime, Utc};
use fingertip_core::inbox::{InboxItem, InboxItemDetail};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::Id;
use super::posts::MediaBody;

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItemResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub broadcast_id: Id,
    #[schema(value_type = String)]
    pub post_id: Id,
    #[schema(value_type = super::enums::PostKindSchema)]
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    #[serde(serialize_with = "super::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "super::timestamp::serialize_option")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "super::timestamp::serialize_option")]
    pub read_by: Option<DateTime<Utc>>,
}

impl From<InboxItem> for InboxItemResponse {
    fn from(i: InboxItem) -> Self {
        Self {
            id: Id(i.id),
            broadcast_id: Id(i.broadcast_id),
            post_id: Id(i.post_id),
            // Posts are never deleted, so the kind is there; an empty word if it were not.
            kind: i.kind.map_or("", |k| k.as_str()).to_string(),
            title: i.title,
            summary: i.summary,
            created_at: i.created_at,
            read_at: i.read_at,
            read_by: i.read_by,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItemDetailResponse {
    #[serde(flatten)]
    pub item: InboxItemResponse,
    pub body_md: String,
    pub media: Vec<MediaBody>,
    pub study_minutes: i32,
}

impl From<InboxItemDetail> for InboxItemDetailResponse {
    fn from(d: InboxItemDetail) -> Self {
        Self {
            item: d.item.into(),
            body_md: d.body_md,
            media: d.media.into_iter().map(Into::into).collect(),
            study_minutes: d.study_minutes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxListResponse {
    pub items: Vec<InboxItemResponse>,
    pub next_cursor: Option<String>,
    pub unread_count: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    /// Only unread items.
    pub unread_only: Option<bool>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCountResponse {
    pub unread_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub read_at: DateTime<Utc>,
    pub unread_count: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadAllResponse {
    pub updated: u64,
    pub unread_count: u64,
}
