//! Which WeChat subscribe template a post kind uses, which page it opens, and which keyword
//! carries which value. Values are fitted to each keyword type's rule before sending (a long
//! title is cut to what a `thing` keyword takes), so a send never fails with 47003 for length.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::kw::{KeywordType, fit};
mod model;

pub use model::{Fields, Source, TemplateKind};

use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::push_templates;
use crate::error::{CoreError, CoreResult, Violations};
use crate::posts::PostKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateConfig {
    pub kind: TemplateKind,
    pub template_id: String,
    /// Mini-program page, e.g. `pages/inbox/item?id={item_id}`.
    pub page: Option<String>,
    pub fields: BTreeMap<String, Source>,
    pub updated_at: DateTime<Utc>,
}

const MAX_FIELDS: usize = 10;

/// Longest keyword name (`character_string12` is 18).
pub const MAX_KEYWORD_CHARS: usize = 32;

/// The refusal of a word that is not a [`TemplateKind`].
const KIND_CHOICES: &str =
    "must be one of lesson, notice, announcement, disclosure, classroom, meeting, reminder, digest";

fn check(
    kind: &str,
    template_id: &str,
    page: Option<&str>,
    fields: &BTreeMap<String, Source>,
) -> CoreResult<()> {
    let mut v = Violations::new();
    v.check(TemplateKind::parse(kind).is_some(), "kind", KIND_CHOICES);
    v.check(
        !template_id.is_empty()
            && template_id.len() <= 128
            && template_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "template_id",
        "must be the subscribe template id from the mini-program console",
    );
    if let Some(p) = page {
        v.check(
            !p.is_empty()
                && p.len() <= 256
                && !p.starts_with('/')
                && !p.contains(char::is_whitespace),
            "page",
            "must be a mini-program page path such as pages/inbox/item?id={item_id}",
        );
    }
    if fields.is_empty() || fields.len() > MAX_FIELDS {
        v.add("fields", "must map 1 to 10 template keywords to values");
        return v.finish();
    }
    for (name, source) in fields {
        if name.len() > MAX_KEYWORD_CHARS {
            v.add(
                "fields",
                format!("a keyword name is at most {MAX_KEYWORD_CHARS} characters"),
            );
            continue;
        }
        match KeywordType::of(name) {
            None => v.add(
                format!("fields.{name}"),
                "is not a subscribe keyword name (thing1, time2, phrase3, character_string4, ...)",
            ),
            Some(KeywordType::Enum) => v.add(
                format!("fields.{name}"),
                "enum keywords take only the template's own values; choose a template without one",
            ),
            Some(KeywordType::Time | KeywordType::Date)
                if !matches!(source, Source::Time | Source::Deadline) =>
            {
                v.add(
                    format!("fields.{name}"),
                    "a time or date keyword must carry time or deadline",
                );
            }
            Some(_) => {}
        }
    }
    v.finish()
}

fn to_config(m: push_templates::Model) -> TemplateConfig {
    TemplateConfig {
        kind: m.kind,
        template_id: m.template_id,
        page: m.page,
        fields: m.fields.0,
        updated_at: m.updated_at,
    }
}

/// Sets (or replaces) the template of a kind. Admins only.
pub async fn put(
    core: &Core,
    actor: &Actor,
    kind: &str,
    template_id: &str,
    page: Option<&str>,
    fields: BTreeMap<String, Source>,
) -> CoreResult<TemplateConfig> {
    access::require_admin(actor, "setting push templates")?;
    check(kind, template_id, page, &fields)?;
    let kind = TemplateKind::parse(kind).ok_or_else(|| CoreError::invalid("kind", KIND_CHOICES))?;
    let now = core.now();
    let fields = Fields(fields);
    let txn = crate::db::begin_write(&core.db).await?;
    // An upsert: two first-time PUTs at once both succeed, the later one wins.
    push_templates::Entity::insert(push_templates::ActiveModel {
        kind: Set(kind),
        template_id: Set(template_id.to_string()),
        page: Set(page.map(str::to_string)),
        fields: Set(fields.clone()),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(push_templates::Column::Kind)
            .update_columns([
                push_templates::Column::TemplateId,
                push_templates::Column::Page,
                push_templates::Column::Fields,
                push_templates::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("template.set")
            .target("template", kind)
            .summary(json!({"template_id": template_id, "page": page, "fields": fields})),
    )
    .await?;
    let m = push_templates::Entity::find_by_id(kind)
        .one(&txn)
        .await?
        .ok_or_else(|| CoreError::Internal("the template just written is missing".into()))?;
    txn.commit().await?;
    tracing::info!(
        kind = kind.as_str(),
        template_id,
        "push template configured"
    );
    Ok(to_config(m))
}

pub async fn get(core: &Core, kind: TemplateKind) -> CoreResult<Option<TemplateConfig>> {
    Ok(push_templates::Entity::find_by_id(kind)
        .one(&core.db)
        .await?
        .map(to_config))
}

/// Every configured template, for the push sender (no access check).
pub(crate) async fn all(core: &Core) -> CoreResult<Vec<TemplateConfig>> {
    Ok(push_templates::Entity::find()
        .order_by_asc(push_templates::Column::Kind)
        .all(&core.db)
        .await?
        .into_iter()
        .map(to_config)
        .collect())
}

/// The templates, for an admin.
pub async fn list(core: &Core, actor: &Actor) -> CoreResult<Vec<TemplateConfig>> {
    access::require_admin(actor, "the push templates")?;
    all(core).await
}

/// Removes the template of a kind (its pushes are then skipped with `no_template`). Admins
/// only; 404 when the kind has none.
pub async fn delete(core: &Core, actor: &Actor, kind: &str) -> CoreResult<()> {
    access::require_admin(actor, "removing push templates")?;
    // A word that is no kind has no template.
    let kind = TemplateKind::parse(kind).ok_or(CoreError::NotFound("push template"))?;
    let txn = crate::db::begin_write(&core.db).await?;
    let r = push_templates::Entity::delete_by_id(kind)
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(CoreError::NotFound("push template"));
    }
    audit::append(
        &txn,
        core.now(),
        &actor.into(),
        Event::new("template.delete").target("template", kind.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The facts a message is made of.
#[derive(Debug, Clone)]
pub struct Facts {
    pub title: String,
    pub summary: Option<String>,
    pub kind: PostKind,
    pub at: DateTime<Utc>,
    pub tz: Tz,
    pub location: Option<String>,
    pub sender: String,
    pub deadline: Option<DateTime<Utc>>,
    pub reminder: bool,
    /// The ladder's urgent push at the deadline (a reminder too).
    pub urgent: bool,
}

pub fn kind_label(kind: &PostKind) -> &'static str {
    match kind {
        PostKind::Lesson => "党课",
        PostKind::Notice => "通知",
        PostKind::Announcement => "公告",
        PostKind::Disclosure => "公示",
        PostKind::Classroom => "指尖课堂",
        PostKind::Meeting => "会议",
    }
}

fn long_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

/// The raw text a source gives for a keyword of type `kind`, before fitting.
fn raw(source: Source, kind: KeywordType, f: &Facts) -> String {
    let when = |t: DateTime<Utc>| match kind {
        KeywordType::Date => t.with_timezone(&f.tz).format("%Y年%m月%d日").to_string(),
        _ => long_time(t, f.tz),
    };
    match source {
        Source::Title if f.urgent => format!("紧急：{}", f.title),
        Source::Title if f.reminder => format!("提醒：{}", f.title),
        Source::Title => f.title.clone(),
        Source::Summary => f.summary.clone().unwrap_or_default(),
        Source::Time => when(f.at),
        Source::Deadline => f.deadline.map(when).unwrap_or_default(),
        Source::Location => f.location.clone().unwrap_or_default(),
        Source::Sender => f.sender.clone(),
        Source::Kind if f.urgent => "紧急提醒".into(),
        Source::Kind if f.reminder => "提醒".into(),
        Source::Kind => kind_label(&f.kind).into(),
    }
}

/// The subscribe message's `data`, every value fitted to its keyword's rule.
pub fn render(cfg: &TemplateConfig, facts: &Facts) -> BTreeMap<String, String> {
    cfg.fields
        .iter()
        .filter_map(|(name, source)| {
            let kind = KeywordType::of(name)?;
            Some((name.clone(), fit(kind, &raw(*source, kind, facts))))
        })
        .collect()
}

/// The page to open, with the inbox item's id.
pub fn page_for(cfg: &TemplateConfig, item_id: Option<i64>) -> Option<String> {
    let page = cfg.page.as_deref()?;
    Some(match item_id {
        Some(id) => page.replace("{item_id}", &id.to_string()),
        None => page.replace("{item_id}", ""),
    })
}
