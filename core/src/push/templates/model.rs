//! A template as stored: what it is for (`push_templates.kind`) and which keyword shows what
//! (`push_templates.fields`).

use std::collections::BTreeMap;

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

use crate::posts::PostKind;

crate::words! {
    /// What can have a template: a post kind, `reminder` (the reminder rounds of any kind,
    /// when set), or `digest` (an off-site member's daily digest, when set; otherwise the
    /// digest uses the template of its first push). Stored in `push_templates.kind`.
    pub enum TemplateKind {
        Lesson = "lesson",
        Notice = "notice",
        Announcement = "announcement",
        Disclosure = "disclosure",
        Classroom = "classroom",
        Meeting = "meeting",
        Reminder = "reminder",
        Digest = "digest",
    }
}

impl From<PostKind> for TemplateKind {
    fn from(k: PostKind) -> Self {
        match k {
            PostKind::Lesson => Self::Lesson,
            PostKind::Notice => Self::Notice,
            PostKind::Announcement => Self::Announcement,
            PostKind::Disclosure => Self::Disclosure,
            PostKind::Classroom => Self::Classroom,
            PostKind::Meeting => Self::Meeting,
        }
    }
}

/// What a keyword shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The post's title.
    Title,
    /// The post's summary (or the start of its body).
    Summary,
    /// When the occurrence was sent (a meeting: when it starts), in the broadcast's zone.
    Time,
    /// Where (meetings); a dash otherwise.
    Location,
    /// Who sends it: the branch's name.
    Sender,
    /// The kind in words: 党课, 通知, 公告, 公示, 指尖课堂.
    Kind,
    /// The read-by date, if any.
    Deadline,
}

/// Which keyword shows what, as stored in `push_templates.fields`: a JSON object
/// `{"thing1": "title", "time2": "time", ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Fields(pub BTreeMap<String, Source>);
