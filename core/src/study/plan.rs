//! A unit's annual study plan (两计划, the study plan): its themes and the lessons planned month
//! by month. Each planned lesson is linked to its post once written, and shows done (the post
//! went out to the unit's members within the plan's year: a broadcast of the unit, of a unit
//! below or above it, or of the organisation), due (its month is not over) or late. The plan
//! is published to the unit's members as a post.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use crate::Core;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::service::{all_channels, send_now_row, wake};
use crate::compliance::{Period, spans};
pub use crate::entities::study_plans::Themes;
use crate::entities::{broadcasts, posts, study_plan_items, study_plans};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::posts::{MediaList, PostKind};

/// At most this many themes and planned lessons in a plan.
pub const MAX_THEMES: usize = 20;
pub const MAX_ITEMS: usize = 120;

crate::words! {
    /// Where a planned lesson stands.
    pub enum ItemState {
        /// Its post went out to members.
        Done = "done",
        /// Not yet, and its month is not over.
        Due = "due",
        /// Its month is over and it did not go out.
        Late = "late",
    }
}

#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    /// A lesson of the plan to keep (with its link unless `post_id` says otherwise); `None`: a
    /// new one.
    pub id: Option<i64>,
    pub month: i32,
    pub theme: Option<String>,
    pub title: String,
    /// `None` keeps a kept lesson's link (a new one has none); `Some(None)` unlinks.
    pub post_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub unit_id: i64,
    pub year: i32,
    pub title: String,
    pub themes: Vec<String>,
    pub items: Vec<ItemInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    pub id: i64,
    pub month: i32,
    pub theme: Option<String>,
    pub title: String,
    pub post_id: Option<i64>,
    pub state: ItemState,
    /// When its post first went out.
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanView {
    pub id: i64,
    pub unit_id: i64,
    pub unit: String,
    pub year: i32,
    pub title: String,
    pub themes: Vec<String>,
    pub items: Vec<ItemView>,
    pub published_post_id: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// The unit, if the actor manages it.
fn managed_unit(tree: &UnitTree, actor: &Actor, unit_id: i64) -> CoreResult<String> {
    crate::access::require_manager(actor)?;
    tree.units
        .get(&unit_id)
        .filter(|_| tree.scope_of(actor).owns(Some(unit_id)))
        .map(|u| u.name.clone())
        .ok_or(CoreError::NotFound("unit"))
}

/// Writes the plan of a unit and year, replacing the one there was (its publication is kept;
/// lessons given with their id are kept, with their link unless it is given); audited
/// `study_plan.save`.
pub async fn save(core: &Core, actor: &Actor, input: PlanInput) -> CoreResult<PlanView> {
    let tree = UnitTree::load(&core.db).await?;
    managed_unit(&tree, actor, input.unit_id)?;
    let mut v = Violations::new();
    v.check(
        (2000..=2100).contains(&input.year),
        "year",
        "must be from 2000 to 2100",
    );
    v.text(input.title.trim(), "title", 200);
    v.check(
        input.themes.len() <= MAX_THEMES,
        "themes",
        "at most 20 themes",
    );
    for (i, t) in input.themes.iter().enumerate() {
        v.text(t.trim(), &format!("themes[{i}]"), 100);
    }
    v.check(
        input.items.len() <= MAX_ITEMS,
        "items",
        "at most 120 planned lessons",
    );
    for (i, it) in input.items.iter().enumerate() {
        v.check(
            (1..=12).contains(&it.month),
            &format!("items[{i}].month"),
            "must be from 1 to 12",
        );
        v.text(it.title.trim(), &format!("items[{i}].title"), 200);
        v.opt_text(
            it.theme.as_deref().map(str::trim),
            &format!("items[{i}].theme"),
            100,
        );
    }
    v.finish()?;
    for (i, it) in input.items.iter().enumerate() {
        if let Some(Some(p)) = it.post_id {
            crate::posts::usable(core, actor, &tree, p)
                .await
                .map_err(|_| CoreError::invalid(format!("items[{i}].post_id"), "does not exist"))?;
        }
    }
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let themes: Vec<String> = input.themes.iter().map(|t| t.trim().to_string()).collect();
    study_plans::Entity::insert(study_plans::ActiveModel {
        unit_id: Set(input.unit_id),
        year: Set(input.year),
        title: Set(input.title.trim().to_string()),
        themes: Set(Themes(themes.clone())),
        published_post_id: Set(None),
        published_at: Set(None),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([study_plans::Column::UnitId, study_plans::Column::Year])
            .update_columns([
                study_plans::Column::Title,
                study_plans::Column::Themes,
                study_plans::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let plan = find(&txn, input.unit_id, input.year)
        .await?
        .ok_or_else(|| CoreError::Internal("the plan just written is missing".into()))?;
    // Lessons given with their id are kept (and keep their link unless it is given); the
    // others are new; lessons of the plan not given go.
    let existing: HashMap<i64, study_plan_items::Model> = study_plan_items::Entity::find()
        .filter(study_plan_items::Column::PlanId.eq(plan.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut kept = std::collections::HashSet::new();
    for (i, it) in input.items.iter().enumerate() {
        let old = match it.id {
            Some(id) => match existing.get(&id) {
                Some(o) if kept.insert(id) => Some(o),
                _ => {
                    return Err(CoreError::invalid(
                        format!("items[{i}].id"),
                        "is not a lesson of this plan (or is given twice)",
                    ));
                }
            },
            None => None,
        };
        let mut am = match old {
            Some(o) => study_plan_items::ActiveModel {
                id: Set(o.id),
                ..Default::default()
            },
            None => <study_plan_items::ActiveModel as Default>::default(),
        };
        am.plan_id = Set(plan.id);
        am.position = Set(i32::try_from(i).unwrap_or(i32::MAX));
        am.month = Set(it.month);
        am.theme = Set(it
            .theme
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string));
        am.title = Set(it.title.trim().to_string());
        am.post_id = Set(match it.post_id {
            Some(p) => p,
            None => old.and_then(|o| o.post_id),
        });
        if old.is_some() {
            am.update(&txn).await?;
        } else {
            am.insert(&txn).await?;
        }
    }
    let gone: Vec<i64> = existing
        .keys()
        .copied()
        .filter(|id| !kept.contains(id))
        .collect();
    if !gone.is_empty() {
        study_plan_items::Entity::delete_many()
            .filter(study_plan_items::Column::Id.is_in(gone))
            .exec(&txn)
            .await?;
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study_plan.save")
            .target("study_plan", plan.id)
            .summary(json!({
                "unit_id": input.unit_id,
                "year": input.year,
                "themes": themes,
                "items": input.items.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    load_view(core, &tree, plan.id).await
}

async fn find(
    db: &impl ConnectionTrait,
    unit_id: i64,
    year: i32,
) -> CoreResult<Option<study_plans::Model>> {
    Ok(study_plans::Entity::find()
        .filter(study_plans::Column::UnitId.eq(unit_id))
        .filter(study_plans::Column::Year.eq(year))
        .one(db)
        .await?)
}

/// The plan of a unit and year, with where each lesson stands.
pub async fn get(core: &Core, actor: &Actor, unit_id: i64, year: i32) -> CoreResult<PlanView> {
    let tree = UnitTree::load(&core.db).await?;
    managed_unit(&tree, actor, unit_id)?;
    let plan = find(&core.db, unit_id, year)
        .await?
        .ok_or(CoreError::NotFound("study plan"))?;
    load_view(core, &tree, plan.id).await
}

/// The plan an item belongs to, if the actor manages its unit.
async fn plan_of_item(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    item_id: i64,
) -> CoreResult<study_plan_items::Model> {
    let item = study_plan_items::Entity::find_by_id(item_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("planned lesson"))?;
    let plan = study_plans::Entity::find_by_id(item.plan_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("planned lesson"))?;
    managed_unit(tree, actor, plan.unit_id).map_err(|e| match e {
        CoreError::NotFound(_) => CoreError::NotFound("planned lesson"),
        e => e,
    })?;
    Ok(item)
}

/// Links a planned lesson to its post (or unlinks it); audited `study_plan.link`.
pub async fn link(
    core: &Core,
    actor: &Actor,
    item_id: i64,
    post_id: Option<i64>,
) -> CoreResult<PlanView> {
    let tree = UnitTree::load(&core.db).await?;
    let item = plan_of_item(core, actor, &tree, item_id).await?;
    if let Some(p) = post_id {
        crate::posts::usable(core, actor, &tree, p).await?;
    }
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    study_plan_items::Entity::update_many()
        .col_expr(
            study_plan_items::Column::PostId,
            sea_orm::sea_query::Expr::value(post_id),
        )
        .filter(study_plan_items::Column::Id.eq(item_id))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study_plan.link")
            .target("study_plan", item.plan_id)
            .summary(json!({"item_id": item_id, "title": item.title, "post_id": post_id})),
    )
    .await?;
    txn.commit().await?;
    load_view(core, &tree, item.plan_id).await
}

/// Publishes the plan to the unit's members (and its subtree's) as a post sent now on every
/// configured channel; audited `study_plan.publish`. Publishing again sends the plan as it now
/// is.
pub async fn publish(core: &Core, actor: &Actor, plan_id: i64) -> CoreResult<PlanView> {
    let tree = UnitTree::load(&core.db).await?;
    let plan = study_plans::Entity::find_by_id(plan_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("study plan"))?;
    let unit = managed_unit(&tree, actor, plan.unit_id).map_err(|e| match e {
        CoreError::NotFound(_) => CoreError::NotFound("study plan"),
        e => e,
    })?;
    let view = load_view(core, &tree, plan_id).await?;
    let audience = Audience {
        unit_ids: vec![plan.unit_id],
        ..Default::default()
    };
    let size = audience.count(core, &tree).await?;
    if size == 0 {
        return Err(CoreError::invalid(
            "unit_id",
            "the unit has no active member to publish to",
        ));
    }
    let now = core.now();
    let tz = core.settings.timezone;
    let txn = crate::db::begin_write(&core.db).await?;
    let post = posts::ActiveModel {
        kind: Set(PostKind::Notice),
        title: Set(format!("{}：{}", unit, view.title)
            .chars()
            .take(200)
            .collect()),
        summary: Set(Some(format!(
            "{} 年度学习计划，{} 次学习",
            view.year,
            view.items.len()
        ))),
        body_md: Set(plan_markdown(&view)),
        media: Set(MediaList(vec![])),
        study_minutes: Set(0),
        created_by: Set(Some(actor.member_id)),
        unit_id: Set(Some(plan.unit_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let mut row = send_now_row(
        all_channels(core),
        tz.name().to_string(),
        Some(plan.unit_id),
        post.id,
        audience,
        now,
    );
    row.audience_size = Set(i64::try_from(size).unwrap_or(i64::MAX));
    row.created_by = Set(Some(actor.member_id));
    let b = row.insert(&txn).await?;
    study_plans::Entity::update_many()
        .col_expr(
            study_plans::Column::PublishedPostId,
            sea_orm::sea_query::Expr::value(post.id),
        )
        .col_expr(
            study_plans::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(study_plans::Column::Id.eq(plan_id))
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study_plan.publish")
            .target("study_plan", plan_id)
            .summary(json!({"post_id": post.id, "broadcast_id": b.id, "audience_size": size})),
    )
    .await?;
    txn.commit().await?;
    wake(core, b.id).await;
    load_view(core, &tree, plan_id).await
}

/// The plan as members read it.
fn plan_markdown(p: &PlanView) -> String {
    let mut out = format!("# {}\n\n", p.title);
    if !p.themes.is_empty() {
        out.push_str("## 学习主题\n\n");
        for t in &p.themes {
            out.push_str(&format!("- {t}\n"));
        }
        out.push('\n');
    }
    out.push_str("## 学习安排\n\n");
    for m in 1..=12 {
        let items: Vec<&ItemView> = p.items.iter().filter(|i| i.month == m).collect();
        if items.is_empty() {
            continue;
        }
        out.push_str(&format!("**{m}月**\n\n"));
        for i in items {
            match &i.theme {
                Some(t) => out.push_str(&format!("- {}（{t}）\n", i.title)),
                None => out.push_str(&format!("- {}\n", i.title)),
            }
        }
        out.push('\n');
    }
    out
}

async fn load_view(core: &Core, tree: &UnitTree, plan_id: i64) -> CoreResult<PlanView> {
    let plan = study_plans::Entity::find_by_id(plan_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("study plan"))?;
    let items = study_plan_items::Entity::find()
        .filter(study_plan_items::Column::PlanId.eq(plan_id))
        .order_by_asc(study_plan_items::Column::Month)
        .order_by_asc(study_plan_items::Column::Position)
        .all(&core.db)
        .await?;
    let post_ids: Vec<i64> = items.iter().filter_map(|i| i.post_id).collect();
    // Broadcasts that reach the plan's unit: its own and its subtree's, those of the units
    // above it, and the organisation's. A sibling branch sending the same lesson does not count.
    let mut reaching = tree.subtree(&[plan.unit_id]);
    let mut up = tree.units.get(&plan.unit_id).and_then(|u| u.parent_id);
    while let Some(u) = up.filter(|u| reaching.insert(*u)) {
        up = tree.units.get(&u).and_then(|x| x.parent_id);
    }
    let year = spans(Period::Year, plan.year, core.settings.timezone).remove(0);
    // When each linked post first went out to the unit within the plan's year.
    let mut sent: HashMap<i64, DateTime<Utc>> = HashMap::new();
    for chunk in post_ids.chunks(crate::db::IN_CHUNK) {
        for b in broadcasts::Entity::find()
            .filter(broadcasts::Column::PostId.is_in(chunk.to_vec()))
            .filter(broadcasts::Column::OccurrencesSent.gt(0))
            .all(&core.db)
            .await?
        {
            let at = b.sent_at.unwrap_or(b.send_at);
            let reaches = b.unit_id.is_none_or(|u| reaching.contains(&u));
            if !reaches || at < year.starts_at || at >= year.ends_at {
                continue;
            }
            sent.entry(b.post_id)
                .and_modify(|t| *t = std::cmp::min(*t, at))
                .or_insert(at);
        }
    }
    let months = spans(Period::Month, plan.year, core.settings.timezone);
    let now = core.now();
    let items = items
        .into_iter()
        .map(|i| {
            let sent_at = i.post_id.and_then(|p| sent.get(&p).copied());
            let month_over = usize::try_from(i.month - 1)
                .ok()
                .and_then(|m| months.get(m))
                .is_some_and(|s| s.ends_at <= now);
            let state = match (sent_at, month_over) {
                (Some(_), _) => ItemState::Done,
                (None, true) => ItemState::Late,
                (None, false) => ItemState::Due,
            };
            ItemView {
                id: i.id,
                month: i.month,
                theme: i.theme,
                title: i.title,
                post_id: i.post_id,
                state,
                sent_at,
            }
        })
        .collect();
    Ok(PlanView {
        id: plan.id,
        unit_id: plan.unit_id,
        unit: tree
            .units
            .get(&plan.unit_id)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        year: plan.year,
        title: plan.title,
        themes: plan.themes.0,
        items,
        published_post_id: plan.published_post_id,
        published_at: plan.published_at,
        updated_at: plan.updated_at,
    })
}
