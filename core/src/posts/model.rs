//! What a post is, as stored: its kind and its media, and the limits on them.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

crate::words! {
    /// What a post is (`meeting`: a meeting's notice, usually written by the server).
    pub enum PostKind {
        Lesson = "lesson",
        Notice = "notice",
        Announcement = "announcement",
        Disclosure = "disclosure",
        Classroom = "classroom",
        Meeting = "meeting",
    }
}

/// The refusal of a word that is not a [`PostKind`].
pub const KIND_CHOICES: &str =
    "must be one of lesson, notice, announcement, disclosure, classroom, meeting";
pub const MEDIA_KINDS: [&str; 5] = ["image", "video", "audio", "link", "file"];
pub const MAX_MEDIA: usize = 20;
pub const MAX_BODY_CHARS: usize = 100_000;
pub const MAX_STUDY_MINUTES: i32 = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub kind: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A post's media as stored in `posts.media`: a JSON array of [`Media`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct MediaList(pub Vec<Media>);
