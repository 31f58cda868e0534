//! Yearly study targets: a default, and rules by role or by tag; a member's target is the
//! highest that applies to them. An admin replaces the whole set at once (audited).

use std::collections::BTreeMap;

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use crate::Core;
use crate::audit::{self, Event};
use crate::auth::{Actor, Role};
use crate::entities::study_targets;
use crate::error::{CoreResult, Violations};

/// At most this many hours a year in any rule.
pub const MAX_TARGET_MINUTES: i32 = 1000 * 60;

/// The targets, in minutes a year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub default_minutes: i32,
    pub roles: BTreeMap<Role, i32>,
    pub tags: BTreeMap<String, i32>,
}

impl Targets {
    /// The target of a member with `role` and `tags`: the highest rule that applies.
    pub fn for_member(&self, role: Role, tags: &[String]) -> i32 {
        let by_role = self.roles.get(&role).copied();
        let by_tag = tags.iter().filter_map(|t| self.tags.get(t).copied()).max();
        [Some(self.default_minutes), by_role, by_tag]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0)
    }
}

/// The targets as stored.
pub async fn load(core: &Core) -> CoreResult<Targets> {
    let mut t = Targets::default();
    for row in study_targets::Entity::find().all(&core.db).await? {
        match row.rule.as_str() {
            "default" => t.default_minutes = row.minutes,
            "role" => {
                if let Ok(r) = row.value.parse::<Role>() {
                    t.roles.insert(r, row.minutes);
                }
            }
            "tag" => {
                t.tags.insert(row.value, row.minutes);
            }
            _ => {}
        }
    }
    Ok(t)
}

/// Replaces every target (admins only).
pub async fn replace(core: &Core, actor: &Actor, mut t: Targets) -> CoreResult<Targets> {
    crate::access::require_admin(actor, "setting study targets")?;
    let mut v = Violations::new();
    // Tags as stored: trimmed; two that trim to the same tag are one rule given twice.
    let given = t.tags.len();
    t.tags = t
        .tags
        .into_iter()
        .map(|(k, m)| (k.trim().to_string(), m))
        .collect();
    v.check(t.tags.len() == given, "tags", "a tag is given twice");
    let ok = |m: i32| (0..=MAX_TARGET_MINUTES).contains(&m);
    v.check(
        ok(t.default_minutes),
        "default_minutes",
        "must be between 0 and 60000",
    );
    v.check(
        t.roles.values().all(|m| ok(*m)),
        "roles",
        "each must be between 0 and 60000 minutes",
    );
    v.check(
        t.tags.values().all(|m| ok(*m)),
        "tags",
        "each must be between 0 and 60000 minutes",
    );
    v.check(t.tags.len() <= 50, "tags", "at most 50 tag rules");
    v.check(
        t.tags
            .keys()
            .all(|k| !k.trim().is_empty() && k.chars().count() <= crate::org::members::MAX_TAG_LEN),
        "tags",
        "each tag must be 1 to 32 characters",
    );
    v.finish()?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    study_targets::Entity::delete_many().exec(&txn).await?;
    let rows = std::iter::once(("default".to_string(), String::new(), t.default_minutes))
        .chain(
            t.roles
                .iter()
                .map(|(r, m)| ("role".into(), r.as_str().to_string(), *m)),
        )
        .chain(
            t.tags
                .iter()
                .map(|(k, m)| ("tag".into(), k.trim().to_string(), *m)),
        );
    for (rule, value, minutes) in rows {
        study_targets::ActiveModel {
            rule: Set(rule),
            value: Set(value),
            minutes: Set(minutes),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study.targets").summary(json!({
            "default_minutes": t.default_minutes,
            "roles": t.roles.iter().map(|(r, m)| (r.as_str(), *m)).collect::<BTreeMap<_, _>>(),
            "tags": t.tags,
        })),
    )
    .await?;
    txn.commit().await?;
    load(core).await
}
