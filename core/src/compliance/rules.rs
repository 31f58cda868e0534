//! The organisation's cadence: one rule per meeting kind. Managers read it; an admin replaces
//! the whole set at once (audited `compliance.rules`).

use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::json;

use super::{AppliesTo, Period, RuleView};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::compliance_rules;
use crate::error::{CoreResult, Violations};
use crate::meetings::MeetingKind;

/// Meetings a rule may ask for in one period, at most.
pub const MAX_MIN_COUNT: i32 = 31;
/// Days ahead a warning may go, at most.
pub const MAX_WARN_DAYS: i32 = 90;

/// A rule as a client gives it (words checked here, so that each bad one is named).
#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub kind: String,
    pub period: String,
    pub min_count: i32,
    pub applies_to: Option<String>,
    pub warn_days: Option<i32>,
}

impl From<compliance_rules::Model> for RuleView {
    fn from(r: compliance_rules::Model) -> Self {
        RuleView {
            kind: r.kind,
            period: r.period,
            min_count: r.min_count,
            applies_to: r.applies_to,
            warn_days: r.warn_days,
        }
    }
}

/// The rules as stored, in the order of the meeting kinds.
pub async fn load(db: &impl sea_orm::ConnectionTrait) -> CoreResult<Vec<RuleView>> {
    let mut rules: Vec<RuleView> = compliance_rules::Entity::find()
        .order_by_asc(compliance_rules::Column::Kind)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    rules.sort_by_key(|r| MeetingKind::ALL.iter().position(|k| *k == r.kind));
    Ok(rules)
}

/// The rules, for managers.
pub async fn list(core: &Core, actor: &Actor) -> CoreResult<Vec<RuleView>> {
    crate::access::require_manager(actor)?;
    load(&core.db).await
}

/// Replaces every rule (admins only). A kind left out has no rule.
pub async fn replace(
    core: &Core,
    actor: &Actor,
    input: Vec<RuleInput>,
) -> CoreResult<Vec<RuleView>> {
    crate::access::require_admin(actor, "setting the meeting calendar")?;
    let mut v = Violations::new();
    v.check(
        input.len() <= MeetingKind::ALL.len(),
        "rules",
        "at most one rule per meeting kind",
    );
    let mut rules: Vec<RuleView> = Vec::with_capacity(input.len());
    for (i, r) in input.iter().enumerate() {
        let field = |f: &str| format!("rules[{i}].{f}");
        let kind = MeetingKind::parse(r.kind.trim());
        if kind.is_none() {
            v.add(
                field("kind"),
                format!("must be one of {}", MeetingKind::choices()),
            );
        }
        if kind.is_some_and(|k| rules.iter().any(|x| x.kind == k)) {
            v.add(field("kind"), "is given twice");
        }
        let period = Period::parse(r.period.trim());
        if period.is_none() {
            v.add(
                field("period"),
                format!("must be one of {}", Period::choices()),
            );
        }
        let applies_to = match r.applies_to.as_deref().map(str::trim) {
            None => Some(AppliesTo::Branch),
            Some(a) => AppliesTo::parse(a),
        };
        if applies_to.is_none() {
            v.add(
                field("applies_to"),
                format!("must be one of {}", AppliesTo::choices()),
            );
        }
        v.check(
            (1..=MAX_MIN_COUNT).contains(&r.min_count),
            &field("min_count"),
            "must be from 1 to 31",
        );
        let warn_days = r.warn_days.unwrap_or(7);
        v.check(
            (0..=MAX_WARN_DAYS).contains(&warn_days),
            &field("warn_days"),
            "must be from 0 (no warning) to 90",
        );
        if let (Some(kind), Some(period), Some(applies_to)) = (kind, period, applies_to) {
            rules.push(RuleView {
                kind,
                period,
                min_count: r.min_count,
                applies_to,
                warn_days,
            });
        }
    }
    v.finish()?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    compliance_rules::Entity::delete_many().exec(&txn).await?;
    for r in &rules {
        compliance_rules::ActiveModel {
            kind: Set(r.kind),
            period: Set(r.period),
            min_count: Set(r.min_count),
            applies_to: Set(r.applies_to),
            warn_days: Set(r.warn_days),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("compliance.rules").summary(json!({
            "rules": rules.iter().map(|r| json!({
                "kind": r.kind.as_str(),
                "period": r.period.as_str(),
                "min_count": r.min_count,
                "applies_to": r.applies_to.as_str(),
                "warn_days": r.warn_days,
            })).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    load(&core.db).await
}
