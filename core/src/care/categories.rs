//! The occasions for a visit and for a talk: managers read them, an admin replaces them
//! (audited `care.categories`). Records keep their occasion's code when a list changes.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::CareKind;
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::care_categories;
use crate::error::{CoreResult, Violations};

/// Occasions per list, at most.
pub const MAX_PER_KIND: usize = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lists {
    pub visits: Vec<Category>,
    pub talks: Vec<Category>,
}

impl Lists {
    pub fn of(&self, kind: CareKind) -> &[Category] {
        match kind {
            CareKind::Visit => &self.visits,
            CareKind::Talk => &self.talks,
        }
    }

    /// The label of a code, or the code itself when the list no longer has it.
    pub fn label(&self, kind: CareKind, code: &str) -> String {
        self.of(kind)
            .iter()
            .find(|c| c.code == code)
            .map_or_else(|| code.to_string(), |c| c.label.clone())
    }
}

pub async fn load(db: &impl ConnectionTrait) -> CoreResult<Lists> {
    let mut lists = Lists::default();
    for r in care_categories::Entity::find()
        .order_by_asc(care_categories::Column::Position)
        .all(db)
        .await?
    {
        let c = Category {
            code: r.code,
            label: r.label,
        };
        match r.kind {
            CareKind::Visit => lists.visits.push(c),
            CareKind::Talk => lists.talks.push(c),
        }
    }
    Ok(lists)
}

/// The lists, for managers.
pub async fn list(core: &Core, actor: &Actor) -> CoreResult<Lists> {
    crate::access::require_manager(actor)?;
    load(&core.db).await
}

/// Replaces both lists (admins only).
pub async fn replace(core: &Core, actor: &Actor, lists: Lists) -> CoreResult<Lists> {
    crate::access::require_admin(actor, "setting the occasions for visits and talks")?;
    let mut v = Violations::new();
    for (field, list) in [("visits", &lists.visits), ("talks", &lists.talks)] {
        v.check(!list.is_empty(), field, "needs at least one occasion");
        v.check(list.len() <= MAX_PER_KIND, field, "at most 30 occasions");
        for (i, c) in list.iter().enumerate() {
            let ok = !c.code.is_empty()
                && c.code.len() <= 32
                && c.code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
            v.check(
                ok,
                &format!("{field}[{i}].code"),
                "must be 1 to 32 of a-z, 0-9 and _",
            );
            if list[..i].iter().any(|o| o.code == c.code) {
                v.add(format!("{field}[{i}].code"), "is given twice");
            }
            v.text(c.label.trim(), &format!("{field}[{i}].label"), 64);
        }
    }
    v.finish()?;
    let txn = crate::db::begin_write(&core.db).await?;
    care_categories::Entity::delete_many()
        .filter(care_categories::Column::Kind.is_in([CareKind::Visit, CareKind::Talk]))
        .exec(&txn)
        .await?;
    for (kind, list) in [
        (CareKind::Visit, &lists.visits),
        (CareKind::Talk, &lists.talks),
    ] {
        for (i, c) in list.iter().enumerate() {
            care_categories::ActiveModel {
                kind: Set(kind),
                code: Set(c.code.clone()),
                label: Set(c.label.trim().to_string()),
                position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
            }
            .insert(&txn)
            .await?;
        }
    }
    let codes = |l: &[Category]| l.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
    audit::append(
        &txn,
        core.now(),
        &actor.into(),
        Event::new("care.categories").summary(json!({
            "visits": codes(&lists.visits),
            "talks": codes(&lists.talks),
        })),
    )
    .await?;
    txn.commit().await?;
    load(&core.db).await
}
