//! Posts: lessons, notices, announcements, disclosures and monthly classroom issues.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Set};

use serde_json::json;

mod model;

pub use model::{
    KIND_CHOICES, MAX_BODY_CHARS, MAX_MEDIA, MAX_STUDY_MINUTES, MEDIA_KINDS, Media, MediaList,
    PostKind,
};

use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::posts;
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::paging::{Order, Page, PageRequest};

#[derive(Debug, Clone, Default)]
pub struct PostInput {
    /// The unit the post belongs to; see [`access::owner_unit`] for the default.
    pub unit_id: Option<i64>,
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
    /// The unit the post belongs to; `None`: the whole organisation.
    pub unit_id: Option<i64>,
    pub kind: PostKind,
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
            unit_id: p.unit_id,
            media: p.media.0,
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
    p.media.0.clone()
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
        v.check(PostKind::parse(k).is_some(), "kind", KIND_CHOICES);
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

fn norm_summary(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The kind named by a client, once [`check`] has accepted it.
fn kind_of(word: &str) -> CoreResult<PostKind> {
    PostKind::parse(word).ok_or_else(|| CoreError::invalid("kind", KIND_CHOICES))
}

/// Checks a new post; its kind, parsed.
fn check_input(input: &PostInput) -> CoreResult<PostKind> {
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
    kind_of(&input.kind)
}

fn new_row(
    actor: &Actor,
    unit_id: Option<i64>,
    kind: PostKind,
    input: PostInput,
    now: DateTime<Utc>,
) -> posts::ActiveModel {
    posts::ActiveModel {
        kind: Set(kind),
        title: Set(input.title.trim().to_string()),
        summary: Set(norm_summary(input.summary)),
        body_md: Set(input.body_md),
        media: Set(MediaList(input.media)),
        study_minutes: Set(input.study_minutes.unwrap_or(0)),
        created_by: Set(Some(actor.member_id)),
        unit_id: Set(unit_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Writes a post; it belongs to `input.unit_id` (within the actor's scope), by default to
/// the organisation for an admin and to a secretary's own unit.
pub async fn create(core: &Core, actor: &Actor, input: PostInput) -> CoreResult<PostView> {
    access::require_manager(actor)?;
    let kind = check_input(&input)?;
    let tree = UnitTree::load(&core.db).await?;
    let unit_id = access::owner_unit(&tree, actor, input.unit_id)?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let summary = json!({"kind": kind, "title": input.title.trim(), "unit_id": unit_id});
    let row = new_row(actor, unit_id, kind, input, now)
        .insert(&txn)
        .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("post.create")
            .target("post", row.id)
            .summary(summary),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}

/// A post made by another service as part of its own (audited) action, e.g. a meeting's
/// notice: it belongs to `unit_id`, and writes no audit entry of its own.
pub(crate) async fn create_part_of(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    input: PostInput,
) -> CoreResult<PostView> {
    let kind = check_input(&input)?;
    Ok(new_row(actor, unit_id, kind, input, core.now())
        .insert(&core.db)
        .await?
        .into())
}

/// A post the actor may read: their own unit's (subtree), or an organisation-wide one.
async fn find_readable(core: &Core, actor: &Actor, id: i64) -> CoreResult<posts::Model> {
    access::require_manager(actor)?;
    let row = posts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("post"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).may_use_post(row.unit_id) {
        return Err(CoreError::NotFound("post"));
    }
    Ok(row)
}

pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<PostView> {
    Ok(find_readable(core, actor, id).await?.into())
}

/// Whether the actor may send this post in a broadcast (the same rule as reading it); a
/// post they may not see is "does not exist" for the field `post_id`.
pub async fn usable(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    id: i64,
) -> CoreResult<posts::Model> {
    posts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|p| tree.scope_of(actor).may_use_post(p.unit_id))
        .ok_or_else(|| CoreError::invalid("post_id", "does not exist"))
}

/// Edits a post: only one that belongs to the actor's scope (a secretary reads
/// organisation-wide posts but cannot change them: every inbox that shows one would change).
pub async fn patch(core: &Core, actor: &Actor, id: i64, p: PostPatch) -> CoreResult<PostView> {
    let row = find_readable(core, actor, id).await?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).owns(row.unit_id) {
        return Err(CoreError::Forbidden(
            "this post belongs to the whole organisation; only an admin can change it. Write your own post to send it".into(),
        ));
    }
    crate::disclosures::check_editable(&core.db, &row, p.kind.as_deref().and_then(PostKind::parse))
        .await?;
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
    let mut changed: Vec<&str> = vec![];
    let title = p
        .title
        .as_deref()
        .map_or(row.title.as_str(), str::trim)
        .to_string();
    let mut am: posts::ActiveModel = row.into();
    if let Some(k) = p.kind {
        am.kind = Set(kind_of(&k)?);
        changed.push("kind");
    }
    if let Some(t) = p.title {
        am.title = Set(t.trim().to_string());
        changed.push("title");
    }
    if let Some(s) = p.summary {
        am.summary = Set(norm_summary(s));
        changed.push("summary");
    }
    if let Some(b) = p.body_md {
        am.body_md = Set(b);
        changed.push("body_md");
    }
    if let Some(m) = p.media {
        am.media = Set(MediaList(m));
        changed.push("media");
    }
    if let Some(m) = p.study_minutes {
        am.study_minutes = Set(m);
        changed.push("study_minutes");
    }
    am.updated_at = Set(core.now());
    let event = Event::new("post.update")
        .target("post", id)
        .summary(json!({"changed": changed, "title": title}));
    let saved = audit::update(core, &actor.into(), am, event).await?;
    core.headers.forget_post(id);
    Ok(saved.into())
}

/// Newest first, optionally of one kind: for a secretary, their scope's posts and the
/// organisation-wide ones.
pub async fn list(
    core: &Core,
    actor: &Actor,
    kind: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<PostView>> {
    access::require_manager(actor)?;
    let mut cond = Condition::all();
    if let Some(k) = kind {
        cond = cond.add(posts::Column::Kind.eq(kind_of(k)?));
    }
    let tree = UnitTree::load(&core.db).await?;
    if let Some(units) = tree.scope_of(actor).units() {
        cond = cond.add(
            Condition::any()
                .add(posts::Column::UnitId.is_null())
                .add(posts::Column::UnitId.is_in(units)),
        );
    }
    let rows = page
        .by_key(
            posts::Entity::find().filter(cond),
            posts::Column::Id,
            Order::Descending,
            |q| q.all(&core.db),
            |p: &posts::Model| p.id,
        )
        .await?;
    Ok(rows.map(PostView::from))
}
