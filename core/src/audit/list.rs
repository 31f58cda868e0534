//! Reading the log: newest first, filtered.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde_json::Value;

use crate::Core;
use crate::auth::Actor;
use crate::entities::audit_log;
use crate::error::CoreResult;
use crate::paging::{Order, Page, PageRequest};

/// An entry as read back.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_member_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub summary: Value,
    pub hash: String,
}

/// Filters of the audit list; all optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor_member_id: Option<i64>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Newest first, filtered. Admins only.
pub async fn list(
    core: &Core,
    actor: &Actor,
    f: &Filter,
    page: PageRequest,
) -> CoreResult<Page<Entry>> {
    crate::access::require_admin(actor, "the audit log")?;
    let mut cond = Condition::all();
    if let Some(a) = f.actor_member_id {
        cond = cond.add(audit_log::Column::ActorMemberId.eq(a));
    }
    if let Some(a) = &f.action {
        // `broadcast` matches every `broadcast.*` action; `broadcast.cancel` only itself.
        cond = if a.contains('.') {
            cond.add(audit_log::Column::Action.eq(a.clone()))
        } else {
            cond.add(audit_log::Column::Action.starts_with(format!("{a}.")))
        };
    }
    if let Some(t) = &f.target_type {
        cond = cond.add(audit_log::Column::TargetType.eq(t.clone()));
    }
    if let Some(t) = &f.target_id {
        cond = cond.add(audit_log::Column::TargetId.eq(t.clone()));
    }
    if let Some(s) = f.since {
        cond = cond.add(audit_log::Column::At.gte(s));
    }
    if let Some(u) = f.until {
        cond = cond.add(audit_log::Column::At.lt(u));
    }
    let rows = page
        .by_key(
            audit_log::Entity::find().filter(cond),
            audit_log::Column::Seq,
            Order::Descending,
            |q| q.all(&core.db),
            |e: &audit_log::Model| e.seq,
        )
        .await?;
    Ok(rows.map(|r| Entry {
        seq: r.seq,
        at: r.at,
        actor_member_id: r.actor_member_id,
        actor_role: r.actor_role,
        action: r.action,
        target_type: r.target_type,
        target_id: r.target_id,
        summary: serde_json::from_str(&r.summary).unwrap_or(Value::String(r.summary)),
        hash: r.hash,
    }))
}
