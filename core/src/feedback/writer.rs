//! A member's side: writing to a unit (named or anonymous), their named threads, following up
//! and closing; an anonymous thread by its key.
//!
//! An anonymous thread is written with the caller's account only to check that they belong
//! under the unit they write to. Nothing stored names them: the row has no member, the key's
//! hash is the only handle, the times are days, and the audit entry's actor is `anonymous`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;

use super::{
    LIST_LIMIT, MAX_BODY, MAX_MESSAGES, MAX_TOPIC, MIN_ANONYMOUS_GROUP, State, Thread, day_of,
    thread, views,
};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::auth::secrets::sha256_hex;
use crate::entities::{feedback, feedback_messages, members};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::UnitTree;

#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The unit written to: the writer's own (default) or one above it.
    pub unit_id: Option<i64>,
    pub topic: String,
    pub body: String,
}

/// The actor of an anonymous writer's audit entries: nobody, said so.
fn anonymous_who() -> Who {
    Who {
        member_id: None,
        role: Some("anonymous".into()),
    }
}

/// Writes a thread (audited `feedback.create`). Anonymous: also its key, which the writer's
/// phone keeps; it is shown once and stored only as a hash.
pub async fn write(
    core: &Core,
    actor: &Actor,
    input: Input,
    anonymous: bool,
) -> CoreResult<(Thread, Option<String>)> {
    let tree = UnitTree::load(&core.db).await?;
    let mut v = Violations::new();
    let topic = input.topic.trim().to_string();
    let body = input.body.trim().to_string();
    v.text(&topic, "topic", MAX_TOPIC);
    v.text(&body, "body", MAX_BODY);
    let unit = input.unit_id.or(actor.unit_id);
    match (actor.unit_id, unit) {
        (None, _) | (_, None) => v.add("unit_id", "you belong to no unit to write to"),
        (Some(own), Some(u)) => {
            if !tree.contains(u) || !tree.subtree(&[u]).contains(&own) {
                v.add("unit_id", "write to your own unit or one above it");
            }
        }
    }
    v.finish()?;
    let unit = unit.unwrap_or_default();
    if anonymous {
        let size = members::Entity::find()
            .filter(members::Column::Active.eq(true))
            .filter(members::Column::UnitId.is_in(tree.subtree(&[unit])))
            .count(&core.db)
            .await?;
        if size < MIN_ANONYMOUS_GROUP {
            return Err(CoreError::invalid(
                "unit_id",
                "a unit of fewer than 5 members would point at you: write anonymously to a unit above it, or under your name",
            ));
        }
    }
    let now = core.now();
    let key = anonymous.then(crate::surveys::random_key);
    let at = if anonymous { day_of(core, now) } else { now };
    let writer = (!anonymous).then_some(actor.member_id);
    let txn = crate::db::begin_write(&core.db).await?;
    let row = feedback::ActiveModel {
        unit_id: Set(unit),
        member_id: Set(writer),
        key_hash: Set(key.as_deref().map(sha256_hex)),
        topic: Set(topic),
        state: Set(State::Open),
        created_at: Set(at),
        waiting_since: Set(Some(at)),
        reminded_at: Set(None),
        answered_at: Set(None),
        closed_at: Set(None),
        ..<feedback::ActiveModel as Default>::default()
    }
    .insert(&txn)
    .await?;
    add_message(&txn, row.id, true, writer, body, at).await?;
    let who = if anonymous {
        anonymous_who()
    } else {
        actor.into()
    };
    audit::append(
        &txn,
        now,
        &who,
        Event::new("feedback.create")
            .target("feedback", row.id)
            .summary(json!({"unit_id": unit, "anonymous": anonymous})),
    )
    .await?;
    txn.commit().await?;
    Ok((thread(&core.db, &tree, row).await?, key))
}

pub(crate) async fn add_message(
    txn: &DatabaseTransaction,
    feedback_id: i64,
    from_writer: bool,
    author_id: Option<i64>,
    body: String,
    at: DateTime<Utc>,
) -> CoreResult<()> {
    let n = feedback_messages::Entity::find()
        .filter(feedback_messages::Column::FeedbackId.eq(feedback_id))
        .count(txn)
        .await?;
    if n >= MAX_MESSAGES {
        return Err(CoreError::Conflict(
            "the thread has 200 messages: close it and write a new one".into(),
        ));
    }
    feedback_messages::ActiveModel {
        feedback_id: Set(feedback_id),
        from_writer: Set(from_writer),
        author_id: Set(author_id),
        body: Set(body),
        created_at: Set(at),
        ..<feedback_messages::ActiveModel as Default>::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The caller's named threads, newest first.
pub async fn mine(core: &Core, actor: &Actor) -> CoreResult<Vec<Thread>> {
    let tree = UnitTree::load(&core.db).await?;
    let rows = feedback::Entity::find()
        .filter(feedback::Column::MemberId.eq(actor.member_id))
        .order_by_desc(feedback::Column::Id)
        .limit(LIST_LIMIT)
        .all(&core.db)
        .await?;
    views(&core.db, &tree, rows, false).await
}

async fn own(core: &Core, actor: &Actor, id: i64) -> CoreResult<feedback::Model> {
    feedback::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|f| f.member_id == Some(actor.member_id))
        .ok_or(CoreError::NotFound("feedback"))
}

async fn by_key(core: &Core, key: &str) -> CoreResult<feedback::Model> {
    let key = key.trim();
    if key.is_empty() || key.len() > 64 {
        return Err(CoreError::NotFound("feedback"));
    }
    feedback::Entity::find()
        .filter(feedback::Column::KeyHash.eq(sha256_hex(key)))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("feedback"))
}

/// One of the caller's named threads (404 for anyone else's).
pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<Thread> {
    let row = own(core, actor, id).await?;
    thread(&core.db, &UnitTree::load(&core.db).await?, row).await
}

/// The anonymous thread whose key this is (404 for any other key).
pub async fn get_by_key(core: &Core, key: &str) -> CoreResult<Thread> {
    let row = by_key(core, key).await?;
    thread(&core.db, &UnitTree::load(&core.db).await?, row).await
}

/// The writer adds to their thread (audited `feedback.message`): an answered thread is open
/// again; a closed one takes nothing (409).
async fn follow_up_row(
    core: &Core,
    row: feedback::Model,
    body: &str,
    who: &Who,
) -> CoreResult<Thread> {
    let body = body.trim().to_string();
    let mut v = Violations::new();
    v.text(&body, "body", MAX_BODY);
    v.finish()?;
    if row.state == State::Closed {
        return Err(CoreError::Conflict(
            "the thread is closed: write a new one".into(),
        ));
    }
    let now = core.now();
    let at = if row.member_id.is_none() {
        day_of(core, now)
    } else {
        now
    };
    let txn = crate::db::begin_write(&core.db).await?;
    let row = super::lock(&txn, row.id).await?;
    if row.state == State::Closed {
        return Err(CoreError::Conflict(
            "the thread is closed: write a new one".into(),
        ));
    }
    add_message(&txn, row.id, true, row.member_id, body, at).await?;
    let mut active: feedback::ActiveModel = row.clone().into();
    if row.state == State::Answered {
        active.state = Set(State::Open);
        active.waiting_since = Set(Some(at));
        active.reminded_at = Set(None);
    }
    let updated = active.update(&txn).await?;
    audit::append(
        &txn,
        now,
        who,
        Event::new("feedback.message").target("feedback", row.id),
    )
    .await?;
    txn.commit().await?;
    thread(&core.db, &UnitTree::load(&core.db).await?, updated).await
}

pub async fn follow_up(core: &Core, actor: &Actor, id: i64, body: &str) -> CoreResult<Thread> {
    let row = own(core, actor, id).await?;
    follow_up_row(core, row, body, &actor.into()).await
}

pub async fn follow_up_by_key(core: &Core, key: &str, body: &str) -> CoreResult<Thread> {
    let row = by_key(core, key).await?;
    follow_up_row(core, row, body, &anonymous_who()).await
}

pub(crate) async fn close_row(core: &Core, row: feedback::Model, who: &Who) -> CoreResult<Thread> {
    if row.state == State::Closed {
        return Err(CoreError::Conflict("the thread is already closed".into()));
    }
    let now = core.now();
    let at = if row.member_id.is_none() && who.role.as_deref() == Some("anonymous") {
        day_of(core, now)
    } else {
        now
    };
    let txn = crate::db::begin_write(&core.db).await?;
    let row = super::lock(&txn, row.id).await?;
    if row.state == State::Closed {
        return Err(CoreError::Conflict("the thread is already closed".into()));
    }
    let mut active: feedback::ActiveModel = row.clone().into();
    active.state = Set(State::Closed);
    active.closed_at = Set(Some(at));
    active.waiting_since = Set(None);
    let updated = active.update(&txn).await?;
    audit::append(
        &txn,
        now,
        who,
        Event::new("feedback.close").target("feedback", row.id),
    )
    .await?;
    txn.commit().await?;
    thread(&core.db, &UnitTree::load(&core.db).await?, updated).await
}

/// The writer closes their thread (audited `feedback.close`).
pub async fn close(core: &Core, actor: &Actor, id: i64) -> CoreResult<Thread> {
    let row = own(core, actor, id).await?;
    close_row(core, row, &actor.into()).await
}

pub async fn close_by_key(core: &Core, key: &str) -> CoreResult<Thread> {
    let row = by_key(core, key).await?;
    close_row(core, row, &anonymous_who()).await
}
