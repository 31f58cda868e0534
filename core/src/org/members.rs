//! Members: create, read, change, list.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set,
};

use serde_json::json;

use super::tree::UnitTree;
use crate::Core;
use crate::access;
use crate::audit::{self, Event};
use crate::auth::secrets::invite_code;
use crate::auth::{Actor, Role, Scope};
use crate::entities::{member_tags, members};
use crate::error::{CoreError, CoreResult, Violations};
use crate::paging::{Order, Page, PageRequest};

pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 32;
/// Longest search text in the member list.
pub const MAX_QUERY_CHARS: usize = 64;

/// A member as services return it. `invite_code` is present until the member binds WeChat.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub id: i64,
    pub name: String,
    pub unit_id: Option<i64>,
    pub role: Role,
    pub tags: Vec<String>,
    pub phone: Option<String>,
    pub wecom_userid: Option<String>,
    pub invite_code: Option<String>,
    pub wechat_bound: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl MemberView {
    pub fn from_row(m: members::Model, tags: Vec<String>) -> Self {
        Self {
            id: m.id,
            name: m.name,
            unit_id: m.unit_id,
            role: m.role,
            tags,
            phone: m.phone,
            wecom_userid: m.wecom_userid,
            invite_code: m.invite_code,
            wechat_bound: m.wechat_openid.is_some(),
            active: m.active,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MemberInput {
    pub name: String,
    pub unit_id: Option<i64>,
    pub role: Option<Role>,
    pub tags: Vec<String>,
    pub phone: Option<String>,
    pub wecom_userid: Option<String>,
}

/// A partial change: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub name: Option<String>,
    pub unit_id: Option<i64>,
    pub role: Option<Role>,
    pub tags: Option<Vec<String>>,
    pub phone: Option<Option<String>>,
    pub wecom_userid: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub unit_id: Option<i64>,
    pub tag: Option<String>,
    pub q: Option<String>,
    /// Only active members of a unit (the roster) who have not bound a WeChat account yet.
    pub unbound: bool,
}

/// Trims, drops empties and duplicates, keeps order.
pub fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags
        .iter()
        .map(String::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

pub fn check_tags(v: &mut Violations, tags: &[String]) {
    if tags.len() > MAX_TAGS {
        v.add("tags", format!("at most {MAX_TAGS} tags"));
    }
    if tags.iter().any(|t| t.chars().count() > MAX_TAG_LEN) {
        v.add(
            "tags",
            format!("each tag must be at most {MAX_TAG_LEN} characters"),
        );
    }
}

pub fn check_phone(v: &mut Violations, phone: Option<&str>) {
    if let Some(p) = phone {
        let ok = p.chars().count() <= 32
            && p.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' '))
            && p.chars().any(|c| c.is_ascii_digit());
        v.check(
            ok,
            "phone",
            "must be a phone number (digits, spaces, + and -)",
        );
    }
}

fn norm_opt(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Checks that the actor may put a member into `unit_id` with `role` (a secretary: a unit of
/// their subtree, and no role above their own).
pub fn check_manage(
    tree: &UnitTree,
    actor: &Actor,
    unit_id: Option<i64>,
    role: Role,
) -> CoreResult<()> {
    access::require_manager(actor)?;
    match unit_id {
        Some(u) => access::unit_in_scope(tree, actor, u, "unit_id")?,
        // Only an admin keeps a member without a unit (off the roster).
        None if tree.scope_of(actor) != Scope::All => {
            return Err(CoreError::invalid("unit_id", "is required"));
        }
        None => {}
    }
    access::check_role_change(actor, Role::Member, role)
}

pub async fn tags_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> CoreResult<HashMap<i64, Vec<String>>> {
    let rows = crate::db::load_grouped_by_ids(
        db,
        member_tags::Entity::find().order_by_asc(member_tags::Column::Tag),
        member_tags::Column::MemberId,
        ids.iter().copied(),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, tags)| (id, tags.into_iter().map(|t| t.tag).collect()))
        .collect())
}

pub async fn set_tags(
    db: &impl ConnectionTrait,
    member_id: i64,
    tags: &[String],
) -> CoreResult<()> {
    member_tags::Entity::delete_many()
        .filter(member_tags::Column::MemberId.eq(member_id))
        .exec(db)
        .await?;
    if !tags.is_empty() {
        member_tags::Entity::insert_many(tags.iter().map(|t| member_tags::ActiveModel {
            member_id: Set(member_id),
            tag: Set(t.clone()),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

pub async fn view(db: &DatabaseConnection, id: i64) -> CoreResult<MemberView> {
    let m = members::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CoreError::NotFound("member"))?;
    let tags = tags_of(db, &[id]).await?.remove(&id).unwrap_or_default();
    Ok(MemberView::from_row(m, tags))
}

pub fn validate_input(input: &MemberInput) -> CoreResult<MemberInput> {
    let mut clean = input.clone();
    clean.name = input.name.trim().to_string();
    clean.tags = clean_tags(&input.tags);
    clean.phone = norm_opt(input.phone.clone());
    clean.wecom_userid = norm_opt(input.wecom_userid.clone());
    let mut v = Violations::new();
    v.text(&clean.name, "name", 64);
    v.check(clean.unit_id.is_some(), "unit_id", "is required");
    check_tags(&mut v, &clean.tags);
    check_phone(&mut v, clean.phone.as_deref());
    v.opt_text(clean.wecom_userid.as_deref(), "wecom_userid", 64);
    v.finish()?;
    Ok(clean)
}

/// Inserts a member with a fresh invite code (retrying the rare code collision), with its
/// audit entry (`via`: how the member came: `api`, `import`).
pub async fn insert(core: &Core, actor: &Actor, input: &MemberInput, via: &str) -> CoreResult<i64> {
    let now = core.now();
    let role = input.role.unwrap_or(Role::Member);
    for _ in 0..5 {
        let txn = crate::db::begin_write(&core.db).await?;
        let row = members::ActiveModel {
            name: Set(input.name.clone()),
            unit_id: Set(input.unit_id),
            role: Set(role),
            phone: Set(input.phone.clone()),
            wecom_userid: Set(input.wecom_userid.clone()),
            invite_code: Set(Some(invite_code())),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match row {
            Ok(row) => {
                set_tags(&txn, row.id, &input.tags).await?;
                audit::append(
                    &txn,
                    now,
                    &actor.into(),
                    Event::new("member.create")
                        .target("member", row.id)
                        .summary(json!({
                            "name": input.name,
                            "unit_id": input.unit_id,
                            "role": role.as_str(),
                            "tags": input.tags,
                            "via": via,
                        })),
                )
                .await?;
                txn.commit().await?;
                return Ok(row.id);
            }
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::Internal(
        "could not find a free invite code".into(),
    ))
}

pub async fn create(core: &Core, actor: &Actor, input: &MemberInput) -> CoreResult<MemberView> {
    let input = validate_input(input)?;
    let tree = UnitTree::load(&core.db).await?;
    check_manage(
        &tree,
        actor,
        input.unit_id,
        input.role.unwrap_or(Role::Member),
    )?;
    let id = insert(core, actor, &input, "api").await?;
    view(&core.db, id).await
}

async fn find_in_scope(
    core: &Core,
    actor: &Actor,
    id: i64,
) -> CoreResult<(members::Model, UnitTree)> {
    access::require_manager(actor)?;
    let m = members::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("member"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).allows_unit(m.unit_id) {
        // Outside a secretary's subtree the member does not exist for them.
        return Err(CoreError::NotFound("member"));
    }
    Ok((m, tree))
}

pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<MemberView> {
    find_in_scope(core, actor, id).await?;
    view(&core.db, id).await
}

/// Changes a member of the actor's scope (`via`: `api`, `import`). A secretary cannot change
/// an admin, nor give anyone a role above secretary.
pub async fn patch(
    core: &Core,
    actor: &Actor,
    id: i64,
    p: MemberPatch,
    via: &str,
) -> CoreResult<MemberView> {
    let (m, tree) = find_in_scope(core, actor, id).await?;
    let mut v = Violations::new();
    let name = p.name.map(|n| n.trim().to_string());
    if let Some(n) = &name {
        v.text(n, "name", 64);
    }
    let tags = p.tags.as_deref().map(clean_tags);
    if let Some(t) = &tags {
        check_tags(&mut v, t);
    }
    let phone = p.phone.map(norm_opt);
    if let Some(ph) = &phone {
        check_phone(&mut v, ph.as_deref());
    }
    let wecom = p.wecom_userid.map(norm_opt);
    if let Some(Some(w)) = &wecom {
        v.opt_text(Some(w), "wecom_userid", 64);
    }
    v.finish()?;
    let current_role: Role = m.role;
    let role = p.role.unwrap_or(current_role);
    let unit_id = p.unit_id.or(m.unit_id);
    access::check_role_change(actor, current_role, role)?;
    if p.role.is_some() || p.unit_id.is_some() {
        check_manage(&tree, actor, unit_id, role)?;
    }
    if id == actor.member_id && (role != current_role || p.active == Some(false)) {
        return Err(CoreError::Conflict(
            "you cannot change your own role or deactivate yourself".into(),
        ));
    }
    let mut changed = serde_json::Map::new();
    if let Some(n) = &name {
        changed.insert("name".into(), json!(n));
    }
    if p.unit_id.is_some() && unit_id != m.unit_id {
        changed.insert("unit_id".into(), json!({"from": m.unit_id, "to": unit_id}));
    }
    if role != current_role {
        changed.insert(
            "role".into(),
            json!({"from": current_role.as_str(), "to": role.as_str()}),
        );
    }
    if let Some(t) = &tags {
        changed.insert("tags".into(), json!(t));
    }
    if phone.is_some() {
        // Personal data stays out of the log: only that it changed.
        changed.insert("phone".into(), json!("changed"));
    }
    if let Some(w) = &wecom {
        changed.insert("wecom_userid".into(), json!(w));
    }
    if let Some(a) = p.active
        && a != m.active
    {
        changed.insert("active".into(), json!(a));
    }
    // What authentication reads of a member: their sessions are checked again everywhere.
    let access_changed = ["role", "unit_id", "active"]
        .iter()
        .any(|k| changed.contains_key(*k));
    changed.insert("via".into(), json!(via));
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let mut am: members::ActiveModel = m.into();
    if let Some(n) = name {
        am.name = Set(n);
    }
    if p.unit_id.is_some() {
        am.unit_id = Set(unit_id);
    }
    am.role = Set(role);
    if let Some(ph) = phone {
        am.phone = Set(ph);
    }
    if let Some(w) = wecom {
        am.wecom_userid = Set(w);
    }
    if let Some(a) = p.active {
        am.active = Set(a);
    }
    am.updated_at = Set(now);
    am.update(&txn).await?;
    if let Some(t) = &tags {
        set_tags(&txn, id, t).await?;
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("member.update")
            .target("member", id)
            .summary(serde_json::Value::Object(changed)),
    )
    .await?;
    txn.commit().await?;
    if access_changed {
        crate::auth::changes::members_changed(core, &[id]).await;
    }
    view(&core.db, id).await
}

pub async fn list(
    core: &Core,
    actor: &Actor,
    f: &MemberFilter,
    page: PageRequest,
) -> CoreResult<Page<MemberView>> {
    access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let mut cond = Condition::all();
    if let Scope::Units(set) = tree.scope_of(actor) {
        cond = cond.add(members::Column::UnitId.is_in(set.into_iter().collect::<Vec<_>>()));
    }
    if let Some(u) = f.unit_id {
        access::unit_in_scope(&tree, actor, u, "unit_id")?;
        cond = cond
            .add(members::Column::UnitId.is_in(tree.subtree(&[u]).into_iter().collect::<Vec<_>>()));
    }
    if f.tag
        .as_deref()
        .is_some_and(|t| t.chars().count() > MAX_TAG_LEN)
    {
        return Err(CoreError::invalid("tag", "must be at most 32 characters"));
    }
    if f.q
        .as_deref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
    {
        return Err(CoreError::invalid("q", "must be at most 64 characters"));
    }
    if let Some(tag) = f.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        cond = cond.add(
            members::Column::Id.in_subquery(
                Query::select()
                    .column(member_tags::Column::MemberId)
                    .from(member_tags::Entity)
                    .and_where(Expr::col(member_tags::Column::Tag).eq(tag))
                    .to_owned(),
            ),
        );
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        cond = cond.add(
            Condition::any()
                .add(members::Column::Name.like(LikeExpr::new(pattern.clone()).escape('\\')))
                .add(members::Column::Phone.like(LikeExpr::new(pattern).escape('\\'))),
        );
    }
    if f.unbound {
        cond = cond
            .add(members::Column::WechatOpenid.is_null())
            .add(members::Column::Active.eq(true))
            .add(members::Column::UnitId.is_not_null());
    }
    let page = page
        .by_key(
            members::Entity::find().filter(cond),
            members::Column::Id,
            Order::Ascending,
            |q| q.all(&core.db),
            |m: &members::Model| m.id,
        )
        .await?;
    let ids: Vec<i64> = page.items.iter().map(|r| r.id).collect();
    let mut tags = tags_of(&core.db, &ids).await?;
    Ok(page.map(|r| {
        let t = tags.remove(&r.id).unwrap_or_default();
        MemberView::from_row(r, t)
    }))
}
