//! Posts: lessons, notices, announcements, disclosures and monthly classroom issues.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};

use crate::Core;
use crate::auth::Actor;
use crate::entities::posts;
use crate::error::{CoreError, CoreResult, Violations};
use crate::paging::{Page, PageRequest};

pub const KINDS: [&str; 6] = [
    "lesson",
    "notice",
    "announcement",
    "disclosure",
    "classroom",
    "meeting",
];
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

#[derive(Debug, Clone, Default)]
pub struct PostInput {
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    pub body_md: String,
    pub media: Vec<Media>,
    pub study_minutes: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct PostPatch {
    pub kind: Option<String>,
    pub title: Option<String>,
    pub summary: Option<Option<String>>,
    pub body_md: Option<String>,
    pub media: Option<Vec<Media>>,
    pub study_minutes: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct PostView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    pub summary: Option<String>,
    pub body_md: String,
    pub media: Vec<Media>,
    pub study_minutes: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<posts::Model> for PostView {
    fn from(p: posts::Model) -> Self {
        Self {
            id: p.id,
            media: media_of(&p),
            kind: p.kind,
            title: p.title,
            summary: p.summary,
            body_md: p.body_md,
            study_minutes: p.study_minutes,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

pub fn media_of(p: &posts::Model) -> Vec<Media> {
    serde_json::from_value(p.media.clone()).unwrap_or_default()
}

fn check(
    v: &mut Violations,
    kind: Option<&str>,
    title: Option<&str>,
    summary: Option<&str>,
    body: Option<&str>,
    media: Option<&[Media]>,
    minutes: Option<i32>,
) {
    if let Some(k) = kind {
        v.check(
            KINDS.contains(&k),
            "kind",
            "must be one of lesson, notice, announcement, disclosure, classroom, meeting",
        );
    }
    if let Some(t) = title {
        v.text(t, "title", 200);
    }
    v.opt_text(summary, "summary", 500);
    if let Some(b) = body {
        v.check(
            b.chars().count() <= MAX_BODY_CHARS,
            "body_md",
            "must be at most 100000 characters",
        );
    }
    if let Some(media) = media {
        if media.len() > MAX_MEDIA {
            v.add("media", format!("at most {MAX_MEDIA} items"));
        }
        for (i, m) in media.iter().enumerate() {
            if !MEDIA_KINDS.contains(&m.kind.as_str()) {
                v.add(
                    format!("media[{i}].kind"),
                    "must be one of image, video, audio, link, file",
                );
            }
            let url_ok = (m.url.starts_with("https://") || m.url.starts_with("http://"))
                && m.url.len() <= 2048
                && !m.url.chars().any(char::is_whitespace);
            v.check(url_ok, &format!("media[{i}].url"), "must be an http(s) URL");
            v.opt_text(m.title.as_deref(), &format!("media[{i}].title"), 200);
        }
    }
    if let Some(m) = minutes {
        v.check(
            (0..=MAX_STUDY_MINUTES).contains(&m),
            "study_minutes",
            "must be between 0 and 600",
        );
    }
}

fn media_json(media: &[Media]) -> serde_json::Value {
    serde_json::to_value(media).unwrap_or(serde_json::Value::Array(vec![]))
}

fn norm_summary(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn create(core: &Core, actor: &Actor, input: PostInput) -> CoreResult<PostView> {
    let mut v = Violations::new();
    check(
        &mut v,
        Some(&input.kind),
        Some(&input.title),
        input.summary.as_deref(),
        Some(&input.body_md),
        Some(&input.media),
        input.study_minutes,
    );
    v.finish()?;
    let now = core.now();
    let row = posts::ActiveModel {
        kind: Set(input.kind),
        title: Set(input.title.trim().to_string()),
        summary: Set(norm_summary(input.summary)),
        body_md: Set(input.body_md),
        media: Set(media_json(&input.media)),
        study_minutes: Set(input.study_minutes.unwrap_or(0)),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok(row.into())
}

pub async fn get(core: &Core, id: i64) -> CoreResult<PostView> {
    Ok(posts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("post"))?
        .into())
}

pub async fn patch(core: &Core, id: i64, p: PostPatch) -> CoreResult<PostView> {
    let row = posts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let mut v = Violations::new();
    check(
        &mut v,
        p.kind.as_deref(),
        p.title.as_deref(),
        p.summary.as_ref().and_then(|s| s.as_deref()),
        p.body_md.as_deref(),
        p.media.as_deref(),
        p.study_minutes,
    );
    v.finish()?;
    let mut am: posts::ActiveModel = row.into();
    if let Some(k) = p.kind {
        am.kind = Set(k);
    }
    if let Some(t) = p.title {
        am.title = Set(t.trim().to_string());
    }
    if let Some(s) = p.summary {
        am.summary = Set(norm_summary(s));
    }
    if let Some(b) = p.body_md {
        am.body_md = Set(b);
    }
    if let Some(m) = p.media {
        am.media = Set(media_json(&m));
    }
    if let Some(m) = p.study_minutes {
        am.study_minutes = Set(m);
    }
    am.updated_at = Set(core.now());
    Ok(am.update(&core.db).await?.into())
}

/// Newest first, optionally of one kind.
pub async fn list(
    core: &Core,
    kind: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<PostView>> {
    let mut cond = Condition::all();
    if let Some(k) = kind {
        if !KINDS.contains(&k) {
            return Err(CoreError::invalid(
                "kind",
                "must be one of lesson, notice, announcement, disclosure, classroom, meeting",
            ));
        }
        cond = cond.add(posts::Column::Kind.eq(k));
    }
    if let Some(after) = page.after {
        cond = cond.add(posts::Column::Id.lt(after));
    }
    let rows = posts::Entity::find()
        .filter(cond)
        .order_by_desc(posts::Column::Id)
        .limit(page.limit + 1)
        .all(&core.db)
        .await?;
    Ok(Page::from_rows(rows, page, |r| r.id).map(PostView::from))
}
