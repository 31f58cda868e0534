use chrono::{DateTime, Utc};
use fingertip_core::posts::{Media, PostView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, double_option};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MediaBody {
    /// image, video, audio, link or file
    #[schema(value_type = super::enums::MediaKindSchema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 2048)]
    pub url: String,
    #[schema(max_length = 200)]
    pub title: Option<String>,
}

impl From<MediaBody> for Media {
    fn from(m: MediaBody) -> Self {
        Media {
            kind: m.kind,
            url: m.url,
            title: m.title,
        }
    }
}

impl From<Media> for MediaBody {
    fn from(m: Media) -> Self {
        MediaBody {
            kind: m.kind,
            url: m.url,
            title: m.title,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePostRequest {
    /// The unit the post belongs to (a secretary manages only their subtree's posts). Default:
    /// the whole organisation for an admin, a secretary's own unit.
    pub unit_id: Option<super::common::IdIn>,
    /// lesson, notice, announcement, disclosure, classroom or meeting (meeting notices are usually written by the server)
    #[schema(value_type = super::enums::PostKindSchema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 500)]
    pub summary: Option<String>,
    #[schema(max_length = 100000)]
    pub body_md: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub media: Vec<MediaBody>,
    /// Study-hour credit for reading it, in minutes (0 to 600).
    #[schema(minimum = 0, maximum = 600)]
    pub study_minutes: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PatchPostRequest {
    #[schema(value_type = Option<super::enums::PostKindSchema>)]
    pub kind: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub summary: Option<Option<String>>,
    #[schema(max_length = 100000)]
    pub body_md: Option<String>,
    #[schema(max_items = 20)]
    pub media: Option<Vec<MediaBody>>,
    #[schema(minimum = 0, maximum = 600)]
    pub study_minutes: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PostResponse {
    #[schema(value_type = String)]
    pub id: Id,
    /// The unit the post belongs to; null: the whole organisation (an admin's).
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    #[schema(value_type = super::enums::PostKindSchema)]
    pub kind: fingertip_core::posts::PostKind,
    pub title: String,
    pub summary: Option<String>,
    pub body_md: String,
    pub media: Vec<MediaBody>,
    pub study_minutes: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PostView> for PostResponse {
    fn from(p: PostView) -> Self {
        Self {
            id: Id(p.id),
            unit_id: p.unit_id.map(Id),
            kind: p.kind,
            title: p.title,
            summary: p.summary,
            body_md: p.body_md,
            media: p.media.into_iter().map(Into::into).collect(),
            study_minutes: p.study_minutes,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PostQuery {
    #[param(value_type = Option<super::enums::PostKindSchema>)]
    pub kind: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}
