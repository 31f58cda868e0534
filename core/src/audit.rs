//! The audit log (DESIGN.md: every admin action is in it): the API writes one row per admin
//! write request, with the actor, the method and path, and the status it ended with, so that
//! refused and failed attempts are on record too.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use crate::Core;
use crate::auth::Actor;
use crate::entities::audit_log;
use crate::error::CoreResult;
use crate::paging::{Page, PageRequest};

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_member_id: Option<i64>,
    pub actor_role: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Records one admin request. The path is cut to 512 characters.
pub async fn record(
    core: &Core,
    actor: Option<&Actor>,
    method: &str,
    path: &str,
    status: u16,
) -> CoreResult<()> {
    audit_log::ActiveModel {
        at: Set(core.now()),
        actor_member_id: Set(actor.map(|a| a.member_id)),
        actor_role: Set(actor.map(|a| a.role.as_str().to_string())),
        method: Set(method.to_string()),
        path: Set(path.chars().take(512).collect()),
        status: Set(i32::from(status)),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok(())
}

/// Newest first, optionally one actor's.
pub async fn list(
    core: &Core,
    actor_member_id: Option<i64>,
    page: PageRequest,
) -> CoreResult<Page<Entry>> {
    let mut cond = Condition::all();
    if let Some(a) = actor_member_id {
        cond = cond.add(audit_log::Column::ActorMemberId.eq(a));
    }
    if let Some(after) = page.after {
        cond = cond.add(audit_log::Column::Id.lt(after));
    }
    let rows = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .limit(page.limit + 1)
        .all(&core.db)
        .await?;
    Ok(Page::from_rows(rows, page, |r| r.id).map(|r| Entry {
        id: r.id,
        at: r.at,
        actor_member_id: r.actor_member_id,
        actor_role: r.actor_role,
        method: r.method,
        path: r.path,
        status: u16::try_from(r.status).unwrap_or(0),
    }))
}
