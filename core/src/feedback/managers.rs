//! The unit's side: the threads addressed to the units a manager manages, answering and
//! closing them. A named writer is told of each answer in the inbox; an anonymous one reads it
//! with their key (telling them in the inbox would say whose thread it is).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::writer::{add_message, close_row};
use super::{LIST_LIMIT, MAX_BODY, State, Thread, thread, views};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::service::{Notice, all_channels, insert_notice, wake};
use crate::entities::feedback;
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;

/// The threads addressed to the units the actor manages (to `unit_id`'s subtree when given),
/// in `state` when given, newest first.
pub async fn list(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    state: Option<State>,
) -> CoreResult<Vec<Thread>> {
    crate::access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let mut q = feedback::Entity::find();
    if let Some(units) = crate::access::listed_units(&tree, actor, unit_id)? {
        q = q.filter(feedback::Column::UnitId.is_in(units));
    }
    if let Some(s) = state {
        q = q.filter(feedback::Column::State.eq(s));
    }
    let rows = q
        .order_by_desc(feedback::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    views(&core.db, &tree, rows, false).await
}

async fn managed(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    id: i64,
) -> CoreResult<feedback::Model> {
    crate::access::require_manager(actor)?;
    feedback::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|f| tree.scope_of(actor).allows_unit(Some(f.unit_id)))
        .ok_or(CoreError::NotFound("feedback"))
}

/// One thread addressed to a unit the actor manages.
pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<Thread> {
    let tree = UnitTree::load(&core.db).await?;
    let row = managed(core, actor, &tree, id).await?;
    thread(&core.db, &tree, row).await
}

/// A manager answers (audited `feedback.reply`); a named writer gets the answer in the inbox,
/// in the same transaction.
pub async fn reply(core: &Core, actor: &Actor, id: i64, body: &str) -> CoreResult<Thread> {
    let tree = UnitTree::load(&core.db).await?;
    managed(core, actor, &tree, id).await?;
    let body = body.trim().to_string();
    let mut v = Violations::new();
    v.text(&body, "body", MAX_BODY);
    v.finish()?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let row = super::lock(&txn, id).await?;
    if row.state == State::Closed {
        return Err(CoreError::Conflict("the thread is closed".into()));
    }
    add_message(&txn, id, false, Some(actor.member_id), body.clone(), now).await?;
    let mut active: feedback::ActiveModel = row.clone().into();
    active.state = Set(State::Answered);
    active.answered_at = Set(Some(now));
    active.waiting_since = Set(None);
    let updated = active.update(&txn).await?;
    let mut told = None;
    if let Some(writer) = row.member_id {
        told = Some(
            insert_notice(
                &txn,
                Notice {
                    unit_id: Some(row.unit_id),
                    title: format!("您的意见“{}”已有答复", row.topic),
                    summary: Some(body.chars().take(60).collect()),
                    body_md: format!("{body}\n\n（在“意见建议”中查看并回复）\n"),
                    channels: all_channels(core),
                    timezone: core.settings.timezone.name().to_string(),
                    to: vec![writer],
                },
                now,
            )
            .await?,
        );
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("feedback.reply")
            .target("feedback", id)
            .summary(json!({"told": told.is_some()})),
    )
    .await?;
    txn.commit().await?;
    if let Some(b) = told {
        wake(core, b).await;
    }
    thread(&core.db, &tree, updated).await
}

/// A manager closes the thread (audited `feedback.close`).
pub async fn close(core: &Core, actor: &Actor, id: i64) -> CoreResult<Thread> {
    let tree = UnitTree::load(&core.db).await?;
    let row = managed(core, actor, &tree, id).await?;
    close_row(core, row, &actor.into()).await
}
