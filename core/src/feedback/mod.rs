//! Feedback to the branch: a member writes to their unit or a unit above it, under their name
//! or anonymously, and the unit's managers answer in a thread.
//!
//! - A thread is `open` (waiting for an answer), `answered` (a manager answered last) or
//!   `closed`. The writer's follow-up reopens an answered thread.
//! - A named writer is told of each answer in the inbox.
//! - An anonymous thread names no member. Its writer holds a random key that only its SHA-256
//!   is stored against, and reads and follows up the thread with it. Its times are days, not
//!   moments. Nothing the server writes or logs while handling it names the writer.
//! - A thread waiting longer than `FINGERTIP_FEEDBACK_REMIND_DAYS` reminds the unit's
//!   secretaries, once per wait.
//!
//! The modules: `writer` (a member's side, named and anonymous), `managers` (the unit's side),
//! `remind` (the worker's reminder). Rules and the argument: docs/feedback.md.

pub mod managers;
mod model;
pub mod remind;
pub mod writer;

pub use model::State;

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Core;
use crate::entities::{feedback, feedback_messages, members};
use crate::error::CoreResult;
use crate::org::UnitTree;

pub const MAX_TOPIC: usize = 100;
pub const MAX_BODY: usize = 5000;
/// Messages a thread holds, at most.
pub const MAX_MESSAGES: u64 = 200;
/// Threads a list returns, at most.
pub const LIST_LIMIT: u64 = 200;
/// An anonymous thread goes only to a unit with at least this many active members (with its
/// subtree), as a survey's results need as many answers (`surveys::MIN_GROUP`).
pub const MIN_ANONYMOUS_GROUP: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub from_writer: bool,
    /// Who wrote it: a manager, or a named writer; `None` for an anonymous writer.
    pub author: Option<Person>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub anonymous: bool,
    /// The writer; `None` when anonymous.
    pub writer: Option<Person>,
    pub topic: String,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub waiting_since: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The messages, oldest first (empty in a list).
    pub messages: Vec<Message>,
}

/// The start of `now`'s day in the organisation's zone: all an anonymous thread keeps of a time.
pub(crate) fn day_of(core: &Core, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = core.settings.timezone;
    let day = now.with_timezone(&tz).date_naive();
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map_or(now, |t| t.with_timezone(&Utc))
}

async fn names<C: ConnectionTrait>(db: &C, ids: Vec<i64>) -> CoreResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .column(members::Column::Name)
        .filter(members::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

fn person(names: &HashMap<i64, String>, id: Option<i64>) -> Option<Person> {
    id.map(|id| Person {
        id,
        name: names.get(&id).cloned().unwrap_or_default(),
    })
}

/// The threads as views, with their messages when `with_messages`.
pub(crate) async fn views<C: ConnectionTrait>(
    db: &C,
    tree: &UnitTree,
    rows: Vec<feedback::Model>,
    with_messages: bool,
) -> CoreResult<Vec<Thread>> {
    let mut messages: HashMap<i64, Vec<feedback_messages::Model>> = HashMap::new();
    if with_messages && !rows.is_empty() {
        for m in feedback_messages::Entity::find()
            .filter(feedback_messages::Column::FeedbackId.is_in(rows.iter().map(|r| r.id)))
            .order_by_asc(feedback_messages::Column::Id)
            .all(db)
            .await?
        {
            messages.entry(m.feedback_id).or_default().push(m);
        }
    }
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.member_id).collect();
    ids.extend(messages.values().flatten().filter_map(|m| m.author_id));
    ids.sort_unstable();
    ids.dedup();
    let names = names(db, ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Thread {
            unit_name: tree
                .units
                .get(&r.unit_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            anonymous: r.member_id.is_none(),
            writer: person(&names, r.member_id),
            messages: messages
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .map(|m| Message {
                    id: m.id,
                    from_writer: m.from_writer,
                    author: person(&names, m.author_id),
                    body: m.body,
                    created_at: m.created_at,
                })
                .collect(),
            id: r.id,
            unit_id: r.unit_id,
            topic: r.topic,
            state: r.state,
            created_at: r.created_at,
            waiting_since: r.waiting_since,
            answered_at: r.answered_at,
            closed_at: r.closed_at,
        })
        .collect())
}

/// One thread with its messages.
pub(crate) async fn thread<C: ConnectionTrait>(
    db: &C,
    tree: &UnitTree,
    row: feedback::Model,
) -> CoreResult<Thread> {
    let mut v = views(db, tree, vec![row], true).await?;
    v.pop()
        .ok_or_else(|| crate::error::CoreError::Internal("a thread without its view".into()))
}

/// The thread's row, locked for the rest of `txn` (on SQLite the write transaction is).
pub(crate) async fn lock(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
) -> CoreResult<feedback::Model> {
    crate::db::for_update(feedback::Entity::find_by_id(id), txn)
        .one(txn)
        .await?
        .ok_or(crate::error::CoreError::NotFound("feedback"))
}
