//! The archive: published disclosures per unit and year, as members read them (those of
//! scope `unit` only within the unit's subtree and by its managers) and as anyone reads the
//! public ones.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Category, Scope, Status, post_of};
use crate::Core;
use crate::auth::Actor;
use crate::entities::disclosures;
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;

/// Entries a list returns, at most.
pub const LIST_LIMIT: u64 = 500;

/// A published disclosure as a reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub category: Category,
    pub scope: Scope,
    pub year: i32,
    pub title: String,
    pub summary: Option<String>,
    /// The text (one entry; empty in a list).
    pub body_md: String,
    pub published_at: Option<DateTime<Utc>>,
}

/// Who reads: a signed-in member, or anyone (the public archive).
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    Member(&'a Actor),
    Public,
}

/// What `reader` may read of the published disclosures.
fn readable(reader: Reader<'_>, tree: &UnitTree) -> Condition {
    let published = Condition::all().add(disclosures::Column::Status.eq(Status::Published));
    match reader {
        Reader::Public => published.add(disclosures::Column::Scope.eq(Scope::Public)),
        Reader::Member(actor) => {
            let mut units: Vec<i64> = match tree.scope_of(actor) {
                crate::auth::Scope::All => return published,
                crate::auth::Scope::Units(set) => set.into_iter().collect(),
            };
            // Scope `unit` reaches the unit's subtree: the member's own unit and those above.
            let mut at = actor.unit_id;
            for _ in 0..=tree.units.len() {
                let Some(u) = at.and_then(|u| tree.units.get(&u)) else {
                    break;
                };
                units.push(u.id);
                at = u.parent_id;
            }
            published.add(
                Condition::any()
                    .add(disclosures::Column::Scope.ne(Scope::Unit))
                    .add(disclosures::Column::UnitId.is_in(units)),
            )
        }
    }
}

fn entry(
    tree: &UnitTree,
    d: disclosures::Model,
    title: String,
    summary: Option<String>,
    body_md: String,
) -> Entry {
    Entry {
        unit_name: tree
            .units
            .get(&d.unit_id)
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        id: d.id,
        unit_id: d.unit_id,
        category: d.category,
        scope: d.scope,
        year: d.year,
        title,
        summary,
        body_md,
        published_at: d.published_at,
    }
}

/// The archive: of `unit_id`'s subtree and of `year` when given, newest first.
pub async fn list(
    core: &Core,
    reader: Reader<'_>,
    unit_id: Option<i64>,
    year: Option<i32>,
) -> CoreResult<Vec<Entry>> {
    let tree = UnitTree::load(&core.db).await?;
    let mut q = disclosures::Entity::find().filter(readable(reader, &tree));
    if let Some(u) = unit_id {
        if !tree.contains(u) {
            return Err(CoreError::NotFound("unit"));
        }
        q = q.filter(disclosures::Column::UnitId.is_in(tree.subtree(&[u])));
    }
    if let Some(y) = year {
        q = q.filter(disclosures::Column::Year.eq(y));
    }
    let rows = q
        .order_by_desc(disclosures::Column::PublishedAt)
        .order_by_desc(disclosures::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    let posts: std::collections::HashMap<i64, (String, Option<String>)> =
        crate::entities::posts::Entity::find()
            .select_only()
            .column(crate::entities::posts::Column::Id)
            .column(crate::entities::posts::Column::Title)
            .column(crate::entities::posts::Column::Summary)
            .filter(crate::entities::posts::Column::Id.is_in(rows.iter().map(|d| d.post_id)))
            .into_tuple::<(i64, String, Option<String>)>()
            .all(&core.db)
            .await?
            .into_iter()
            .map(|(id, t, s)| (id, (t, s)))
            .collect();
    Ok(rows
        .into_iter()
        .map(|d| {
            let (t, s) = posts.get(&d.post_id).cloned().unwrap_or_default();
            entry(&tree, d, t, s, String::new())
        })
        .collect())
}

/// One published disclosure the reader may read, with its text (404 otherwise).
pub async fn get(core: &Core, reader: Reader<'_>, id: i64) -> CoreResult<Entry> {
    let tree = UnitTree::load(&core.db).await?;
    let d = disclosures::Entity::find_by_id(id)
        .filter(readable(reader, &tree))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("disclosure"))?;
    let post = post_of(&core.db, &d).await?;
    Ok(entry(&tree, d, post.title, post.summary, post.body_md))
}
