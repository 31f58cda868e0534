//! The steps of a disclosure, each in one transaction with its audit entry:
//!
//! | step | from | by |
//! |---|---|---|
//! | `create` (`disclosure.create`) | a post of kind `disclosure` | the unit's managers |
//! | `update` (`disclosure.update`) | draft | the unit's managers |
//! | `submit` (`disclosure.submit`) | draft | the unit's managers |
//! | `review` (`disclosure.review`, the secrecy check) | submitted | the unit's managers, not the submitter |
//! | `approve` (`disclosure.approve`) | reviewed | an admin or a secretary of a unit above, neither the submitter nor the reviewer |
//! | `send_back` (`disclosure.return`, with a reason) | submitted; reviewed | whoever may take the next step |
//! | `publish` (`disclosure.publish`) | approved | the unit's managers |
//!
//! Publishing broadcasts the post now to its scope: the unit's subtree, or everyone.

use chrono::Datelike;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;

use super::{Category, DisclosureView, Scope, Status, post_of, view};
use crate::Core;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::{Actor, Role};
use crate::broadcasts::service::{all_channels, send_now_row, wake};
use crate::entities::{disclosures, posts};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;
use crate::posts::PostKind;

pub const MAX_REASON: usize = 500;
pub const MAX_NOTE: usize = 1000;
/// Disclosures a list returns, at most.
pub const LIST_LIMIT: u64 = 200;

#[derive(Debug, Clone)]
pub struct Input {
    pub post_id: i64,
    /// Default: the post's unit, else the actor's.
    pub unit_id: Option<i64>,
    pub category: Category,
    pub scope: Scope,
    /// Default: this year in the organisation's zone.
    pub year: Option<i32>,
}

/// The disclosure, if the actor manages its unit (else 404).
async fn managed(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    id: i64,
) -> CoreResult<disclosures::Model> {
    crate::access::require_manager(actor)?;
    disclosures::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|d| tree.scope_of(actor).allows_unit(Some(d.unit_id)))
        .ok_or(CoreError::NotFound("disclosure"))
}

async fn lock(txn: &DatabaseTransaction, id: i64) -> CoreResult<disclosures::Model> {
    crate::db::for_update(disclosures::Entity::find_by_id(id), txn)
        .one(txn)
        .await?
        .ok_or(CoreError::NotFound("disclosure"))
}

fn this_year(core: &Core) -> i32 {
    core.now().with_timezone(&core.settings.timezone).year()
}

async fn finish(core: &Core, tree: &UnitTree, d: disclosures::Model) -> CoreResult<DisclosureView> {
    let post = post_of(&core.db, &d).await?;
    Ok(view(tree, d, post.title))
}

/// Starts a disclosure from a post of kind `disclosure` (audited `disclosure.create`).
pub async fn create(core: &Core, actor: &Actor, input: Input) -> CoreResult<DisclosureView> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let post = crate::posts::usable(core, actor, &tree, input.post_id).await?;
    let mut v = Violations::new();
    v.check(
        post.kind == PostKind::Disclosure,
        "post_id",
        "must be a post of kind disclosure",
    );
    let unit = input.unit_id.or(post.unit_id).or(actor.unit_id);
    match unit {
        Some(u) if tree.contains(u) && tree.scope_of(actor).allows_unit(Some(u)) => {}
        Some(_) => v.add("unit_id", "does not exist"),
        None => v.add("unit_id", "give the unit whose affairs it discloses"),
    }
    let year = input.year.unwrap_or_else(|| this_year(core));
    v.check(
        (2000..=2100).contains(&year),
        "year",
        "must be 2000 to 2100",
    );
    v.finish()?;
    let unit = unit.unwrap_or_default();
    if let Some(p) = post.unit_id
        && !tree.subtree(&[unit]).contains(&p)
        && !tree.subtree(&[p]).contains(&unit)
    {
        return Err(CoreError::invalid(
            "unit_id",
            "must be the post's unit, or a unit above or below it",
        ));
    }
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let taken = disclosures::Entity::find()
        .filter(disclosures::Column::PostId.eq(post.id))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(CoreError::Conflict(
            "this post already has its disclosure".into(),
        ));
    }
    let row = disclosures::ActiveModel {
        post_id: Set(post.id),
        unit_id: Set(unit),
        category: Set(input.category),
        scope: Set(input.scope),
        year: Set(year),
        status: Set(Status::Draft),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..<disclosures::ActiveModel as Default>::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("disclosure.create")
            .target("disclosure", row.id)
            .summary(json!({
                "post_id": post.id, "title": post.title, "unit_id": unit,
                "category": input.category, "scope": input.scope, "year": year,
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(view(&tree, row, post.title))
}

/// Changes a draft's category, scope or year (audited `disclosure.update`).
pub async fn update(
    core: &Core,
    actor: &Actor,
    id: i64,
    category: Option<Category>,
    scope: Option<Scope>,
    year: Option<i32>,
) -> CoreResult<DisclosureView> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    if year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(CoreError::invalid("year", "must be 2000 to 2100"));
    }
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let d = lock(&txn, id).await?;
    if d.status != Status::Draft {
        return Err(CoreError::Conflict(format!(
            "only a draft changes; this one is {}",
            d.status
        )));
    }
    let mut am: disclosures::ActiveModel = d.into();
    if let Some(c) = category {
        am.category = Set(c);
    }
    if let Some(s) = scope {
        am.scope = Set(s);
    }
    if let Some(y) = year {
        am.year = Set(y);
    }
    am.updated_at = Set(now);
    let d = am.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("disclosure.update")
            .target("disclosure", id)
            .summary(json!({"category": d.category, "scope": d.scope, "year": d.year})),
    )
    .await?;
    txn.commit().await?;
    finish(core, &tree, d).await
}

/// One step: checks the status and who may take it (in the transaction, on the locked row),
/// applies `change`, writes the audit entry `action` with `summary`.
#[allow(clippy::too_many_arguments)] // each step names its own rule, change and summary
async fn step(
    core: &Core,
    actor: &Actor,
    id: i64,
    from: &[Status],
    action: &'static str,
    allowed: impl Fn(&disclosures::Model, &UnitTree) -> CoreResult<()>,
    change: impl FnOnce(&mut disclosures::ActiveModel, &disclosures::Model),
    summary: serde_json::Value,
) -> CoreResult<(DisclosureView, disclosures::Model)> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let d = lock(&txn, id).await?;
    if !from.contains(&d.status) {
        return Err(CoreError::Conflict(format!(
            "this step is not for a disclosure that is {}",
            d.status
        )));
    }
    allowed(&d, &tree)?;
    let before = d.clone();
    let mut am: disclosures::ActiveModel = d.into();
    change(&mut am, &before);
    am.updated_at = Set(now);
    let d = am.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new(action).target("disclosure", id).summary(summary),
    )
    .await?;
    txn.commit().await?;
    let v = finish(core, &tree, d.clone()).await?;
    Ok((v, d))
}

/// Who may review: a manager of the unit who did not submit it.
fn may_review(actor: &Actor, d: &disclosures::Model) -> CoreResult<()> {
    if d.submitted_by == Some(actor.member_id) {
        return Err(CoreError::Forbidden(
            "someone other than who submitted it reviews it".into(),
        ));
    }
    Ok(())
}

/// Who may approve: an admin, or a secretary of a unit above the disclosure's, who neither
/// submitted nor reviewed it.
fn may_approve(actor: &Actor, d: &disclosures::Model, tree: &UnitTree) -> CoreResult<()> {
    let above = match (actor.role, actor.unit_id) {
        (Role::Admin, _) => true,
        (Role::Secretary, Some(u)) => u != d.unit_id && tree.subtree(&[u]).contains(&d.unit_id),
        _ => false,
    };
    if !above {
        return Err(CoreError::Forbidden(
            "a disclosure is approved by an admin or by the secretary of a unit above".into(),
        ));
    }
    if d.submitted_by == Some(actor.member_id) || d.reviewed_by == Some(actor.member_id) {
        return Err(CoreError::Forbidden(
            "who submitted or reviewed a disclosure does not approve it".into(),
        ));
    }
    Ok(())
}

/// Submits a draft for review (audited `disclosure.submit`).
pub async fn submit(core: &Core, actor: &Actor, id: i64) -> CoreResult<DisclosureView> {
    let now = core.now();
    let by = actor.member_id;
    Ok(step(
        core,
        actor,
        id,
        &[Status::Draft],
        "disclosure.submit",
        |_, _| Ok(()),
        |am, _| {
            am.status = Set(Status::Submitted);
            am.submitted_by = Set(Some(by));
            am.submitted_at = Set(Some(now));
        },
        json!({}),
    )
    .await?
    .0)
}

/// Reviews a submitted disclosure (audited `disclosure.review`): the reviewer confirms the
/// secrecy check (nothing secret is disclosed), with a note if they wish.
pub async fn review(
    core: &Core,
    actor: &Actor,
    id: i64,
    secrecy_checked: bool,
    note: Option<String>,
) -> CoreResult<DisclosureView> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let mut v = Violations::new();
    v.check(
        secrecy_checked,
        "secrecy_checked",
        "confirm that nothing secret is disclosed, or send it back with a reason",
    );
    v.opt_text(note.as_deref(), "note", MAX_NOTE);
    v.finish()?;
    let now = core.now();
    let by = actor.member_id;
    let stored = note.clone();
    Ok(step(
        core,
        actor,
        id,
        &[Status::Submitted],
        "disclosure.review",
        |d, _| may_review(actor, d),
        |am, _| {
            am.status = Set(Status::Reviewed);
            am.reviewed_by = Set(Some(by));
            am.reviewed_at = Set(Some(now));
            am.review_note = Set(stored);
        },
        json!({"secrecy_checked": true, "note": note.is_some()}),
    )
    .await?
    .0)
}

/// Approves a reviewed disclosure (audited `disclosure.approve`).
pub async fn approve(core: &Core, actor: &Actor, id: i64) -> CoreResult<DisclosureView> {
    let now = core.now();
    let by = actor.member_id;
    Ok(step(
        core,
        actor,
        id,
        &[Status::Reviewed],
        "disclosure.approve",
        |d, tree| may_approve(actor, d, tree),
        |am, _| {
            am.status = Set(Status::Approved);
            am.approved_by = Set(Some(by));
            am.approved_at = Set(Some(now));
        },
        json!({}),
    )
    .await?
    .0)
}

/// Sends a submitted or reviewed disclosure back to draft with a reason (audited
/// `disclosure.return`), by whoever may take its next step.
pub async fn send_back(
    core: &Core,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> CoreResult<DisclosureView> {
    let reason = reason.trim().to_string();
    let mut v = Violations::new();
    v.text(&reason, "reason", MAX_REASON);
    v.finish()?;
    let now = core.now();
    let by = actor.member_id;
    let stored = reason.clone();
    Ok(step(
        core,
        actor,
        id,
        &[Status::Submitted, Status::Reviewed],
        "disclosure.return",
        |d, tree| match d.status {
            Status::Submitted => may_review(actor, d),
            _ => may_approve(actor, d, tree),
        },
        |am, _| {
            am.status = Set(Status::Draft);
            am.returned_by = Set(Some(by));
            am.returned_at = Set(Some(now));
            am.return_reason = Set(Some(stored));
            am.submitted_by = Set(None);
            am.submitted_at = Set(None);
            am.reviewed_by = Set(None);
            am.reviewed_at = Set(None);
            am.review_note = Set(None);
        },
        json!({"reason": reason}),
    )
    .await?
    .0)
}

/// Publishes an approved disclosure now to its scope (audited `disclosure.publish`): a broadcast
/// of its post, in the same transaction.
pub async fn publish(core: &Core, actor: &Actor, id: i64) -> CoreResult<DisclosureView> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let d = lock(&txn, id).await?;
    if d.status != Status::Approved {
        return Err(CoreError::Conflict(format!(
            "only an approved disclosure is published; this one is {}",
            d.status
        )));
    }
    let post = post_of(&txn, &d).await?;
    let audience = match d.scope {
        Scope::Unit => Audience {
            unit_ids: vec![d.unit_id],
            ..Default::default()
        },
        Scope::Organisation | Scope::Public => Audience {
            all: true,
            ..Default::default()
        },
    };
    let size = audience.count(core, &tree).await?;
    let mut row = send_now_row(
        all_channels(core),
        core.settings.timezone.name().to_string(),
        Some(d.unit_id),
        post.id,
        audience,
        now,
    );
    row.audience_size = Set(i64::try_from(size).unwrap_or(i64::MAX));
    row.created_by = Set(Some(actor.member_id));
    let b = row.insert(&txn).await?;
    let mut am: disclosures::ActiveModel = d.into();
    am.status = Set(Status::Published);
    am.published_by = Set(Some(actor.member_id));
    am.published_at = Set(Some(now));
    am.broadcast_id = Set(Some(b.id));
    am.updated_at = Set(now);
    let d = am.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("disclosure.publish")
            .target("disclosure", id)
            .summary(json!({"broadcast_id": b.id, "scope": d.scope, "audience_size": size})),
    )
    .await?;
    txn.commit().await?;
    wake(core, b.id).await;
    Ok(view(&tree, d, post.title))
}

/// The disclosures of the units the actor manages (of `unit_id`'s subtree), newest first.
pub async fn list(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    status: Option<Status>,
    year: Option<i32>,
) -> CoreResult<Vec<DisclosureView>> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let mut q = disclosures::Entity::find();
    if let Some(units) = crate::access::listed_units(&tree, actor, unit_id)? {
        q = q.filter(disclosures::Column::UnitId.is_in(units));
    }
    if let Some(s) = status {
        q = q.filter(disclosures::Column::Status.eq(s));
    }
    if let Some(y) = year {
        q = q.filter(disclosures::Column::Year.eq(y));
    }
    let rows = q
        .order_by_desc(disclosures::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    with_titles(core, &tree, rows).await
}

pub(crate) async fn with_titles(
    core: &Core,
    tree: &UnitTree,
    rows: Vec<disclosures::Model>,
) -> CoreResult<Vec<DisclosureView>> {
    let titles: std::collections::HashMap<i64, String> = posts::Entity::find()
        .select_only()
        .column(posts::Column::Id)
        .column(posts::Column::Title)
        .filter(posts::Column::Id.is_in(rows.iter().map(|d| d.post_id)))
        .into_tuple::<(i64, String)>()
        .all(&core.db)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|d| {
            let t = titles.get(&d.post_id).cloned().unwrap_or_default();
            view(tree, d, t)
        })
        .collect())
}

pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<DisclosureView> {
    let tree = UnitTree::load(&core.db).await?;
    let d = managed(core, actor, &tree, id).await?;
    finish(core, &tree, d).await
}
