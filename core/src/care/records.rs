//! Recording a visit or a talk, listing them, removing one made in error. Only the managers of
//! the member's unit (admins; secretaries of a unit above or at it) read or write them; the
//! notes never enter the audit log.

use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{CareKind, Visitors, categories};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::{care_records, members};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;

/// Notes of a record, at most (characters).
pub const MAX_NOTES: usize = 2000;
/// Who went, at most.
pub const MAX_VISITORS: usize = 10;
/// Records a list returns, at most.
pub const LIST_LIMIT: u64 = 500;

#[derive(Debug, Clone, Default)]
pub struct RecordInput {
    pub member_id: i64,
    pub kind: String,
    pub category: String,
    pub date: Option<NaiveDate>,
    pub visitors: Vec<i64>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    pub id: i64,
    pub member: Person,
    pub unit_id: Option<i64>,
    pub kind: CareKind,
    pub category: String,
    pub category_label: String,
    pub date: NaiveDate,
    pub visitors: Vec<Person>,
    pub notes: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<Utc>,
}

/// Today in the organisation's zone.
pub fn today(core: &Core) -> NaiveDate {
    core.now()
        .with_timezone(&core.settings.timezone)
        .date_naive()
}

/// The member, if the actor manages their unit (else a 404: it does not exist for them).
async fn managed_member(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    id: i64,
) -> CoreResult<members::Model> {
    crate::access::require_manager(actor)?;
    members::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|m| tree.scope_of(actor).owns(m.unit_id))
        .ok_or(CoreError::NotFound("member"))
}

/// Records a visit or a talk (audited `care.record`, without the notes).
pub async fn record(core: &Core, actor: &Actor, input: RecordInput) -> CoreResult<RecordView> {
    let tree = UnitTree::load(&core.db).await?;
    let member = managed_member(core, actor, &tree, input.member_id).await?;
    let lists = categories::load(&core.db).await?;
    let mut v = Violations::new();
    let kind = CareKind::parse(input.kind.trim());
    if kind.is_none() {
        v.add("kind", format!("must be one of {}", CareKind::choices()));
    }
    if let Some(k) = kind {
        let known = lists.of(k).iter().any(|c| c.code == input.category.trim());
        v.check(
            known,
            "category",
            "is not an occasion of that kind (see /api/v1/admin/care/categories)",
        );
    }
    let today = today(core);
    let date = input.date.unwrap_or(today);
    v.check(date <= today, "date", "is in the future");
    v.check(date.year() >= 2000, "date", "is before 2000");
    v.check(
        input.visitors.len() <= MAX_VISITORS,
        "visitors",
        "at most 10 people",
    );
    v.opt_text(input.notes.as_deref(), "notes", MAX_NOTES);
    v.finish()?;
    let mut visitors = input.visitors.clone();
    visitors.sort_unstable();
    visitors.dedup();
    // Who went: the caller, or members of the caller's scope (a record shows their names, so
    // an id from elsewhere would reveal a name the caller may not read).
    let scope = tree.scope_of(actor);
    let found: Vec<(i64, Option<i64>)> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .column(members::Column::UnitId)
        .filter(members::Column::Id.is_in(visitors.clone()))
        .into_tuple()
        .all(&core.db)
        .await?;
    let known = found
        .iter()
        .filter(|(id, unit)| *id == actor.member_id || scope.owns(*unit))
        .count();
    if known != visitors.len() {
        return Err(CoreError::invalid(
            "visitors",
            "names a member who is not in your units",
        ));
    }
    let kind = kind.ok_or_else(|| CoreError::Internal("kind without a violation".into()))?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let row = care_records::ActiveModel {
        member_id: Set(member.id),
        unit_id: Set(member.unit_id),
        kind: Set(kind),
        category: Set(input.category.trim().to_string()),
        happened_on: Set(date),
        visitors: Set(Visitors(visitors.clone())),
        notes: Set(input
            .notes
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("care.record")
            .target("member", member.id)
            .summary(json!({
                "record_id": row.id,
                "kind": kind.as_str(),
                "category": row.category,
                "date": date,
                "visitors": visitors.len(),
            })),
    )
    .await?;
    txn.commit().await?;
    Ok(views(core, &lists, vec![row]).await?.remove(0))
}

/// The records of a unit's subtree (or of the actor's whole scope), of a year and of a member
/// when given, newest first (at most 500).
pub async fn list(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    year: Option<i32>,
    member_id: Option<i64>,
) -> CoreResult<Vec<RecordView>> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let mut q = care_records::Entity::find();
    if let Some(units) = crate::access::listed_units(&tree, actor, unit_id)? {
        q = q.filter(care_records::Column::UnitId.is_in(units));
    }
    if let Some(y) = year {
        if !(2000..=2100).contains(&y) {
            return Err(CoreError::invalid("year", "must be from 2000 to 2100"));
        }
        let from = NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(y + 1, 1, 1).unwrap_or_default();
        q = q
            .filter(care_records::Column::HappenedOn.gte(from))
            .filter(care_records::Column::HappenedOn.lt(to));
    }
    if let Some(m) = member_id {
        q = q.filter(care_records::Column::MemberId.eq(m));
    }
    let rows = q
        .order_by_desc(care_records::Column::HappenedOn)
        .order_by_desc(care_records::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    let lists = categories::load(&core.db).await?;
    views(core, &lists, rows).await
}

/// Removes a record made in error (audited `care.remove`).
pub async fn remove(core: &Core, actor: &Actor, id: i64) -> CoreResult<()> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let row = care_records::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|r| tree.scope_of(actor).owns(r.unit_id))
        .ok_or(CoreError::NotFound("record"))?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let gone = care_records::Entity::delete_by_id(id).exec(&txn).await?;
    if gone.rows_affected == 0 {
        return Err(CoreError::NotFound("record"));
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("care.remove")
            .target("member", row.member_id)
            .summary(json!({"record_id": id, "kind": row.kind.as_str(), "category": row.category, "date": row.happened_on})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn views(
    core: &Core,
    lists: &categories::Lists,
    rows: Vec<care_records::Model>,
) -> CoreResult<Vec<RecordView>> {
    let ids: Vec<i64> = rows
        .iter()
        .flat_map(|r| std::iter::once(r.member_id).chain(r.visitors.0.iter().copied()))
        .collect();
    let names =
        crate::db::load_by_ids::<members::Entity>(&core.db, members::Column::Id, ids).await?;
    let person = |id: i64| Person {
        id,
        name: names.get(&id).map(|m| m.name.clone()).unwrap_or_default(),
    };
    Ok(rows
        .into_iter()
        .map(|r| RecordView {
            id: r.id,
            member: person(r.member_id),
            unit_id: r.unit_id,
            kind: r.kind,
            category_label: lists.label(r.kind, &r.category),
            category: r.category,
            date: r.happened_on,
            visitors: r.visitors.0.iter().map(|v| person(*v)).collect(),
            notes: r.notes,
            created_by: r.created_by,
            created_at: r.created_at,
        })
        .collect())
}
