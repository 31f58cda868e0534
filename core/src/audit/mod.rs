//! The audit log (DESIGN.md: an append-only, hash-chained record of every admin action; the
//! users are auditors and will check it).
//!
//! Every change an admin or a secretary makes writes one entry **in the transaction of the
//! change** ([`append`]), so a change is never without its entry and an entry never without its
//! change. Logins of admins and secretaries, failed ones too, are entries of their own.
//!
//! **The chain.** Entry `n` stores `prev_hash` (entry `n-1`'s hash, 64 zeros for the first)
//! and `hash = sha256(prev_hash || canonical entry)`, where the canonical entry is the JSON
//! array `[seq, at, actor_id, actor_role, action, target_type, target_id, summary]` (`at` in
//! RFC 3339 with microseconds, `summary` the stored text). One row, `audit_head`, holds the last
//! `seq` and hash; [`append`] first increments its `seq` (which takes the row's lock on
//! PostgreSQL, and SQLite's write transactions are serialised anyway), so concurrent writers
//! queue and the chain stays one line with no gap. [`verify`] recomputes it from the first
//! entry and names the first one that does not match, and checks the head against the last
//! entry so that entries cut off the end are found too.

mod chain;
mod list;

pub use chain::{GENESIS_HASH, Mismatch, Verification, verify, verify_as};
pub use list::{Entry, Filter, list};

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde_json::{Value, json};

use crate::Core;
use crate::auth::{Actor, Role};
use crate::entities::{audit_head, audit_log};
use crate::error::{CoreError, CoreResult};
use chain::{canonical, chain_hash, summary_text};

/// Who acted: a member with their role at the time, or nobody (an anonymous caller, e.g. a
/// failed login, or the system).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub member_id: Option<i64>,
    pub role: Option<String>,
}

impl Who {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The server itself (the bootstrap admin set from the configuration at start-up).
    pub fn system() -> Self {
        Self {
            member_id: None,
            role: Some("system".into()),
        }
    }

    pub fn member(id: i64, role: Role) -> Self {
        Self {
            member_id: Some(id),
            role: Some(role.as_str().to_string()),
        }
    }
}

impl From<&Actor> for Who {
    fn from(a: &Actor) -> Self {
        Self::member(a.member_id, a.role)
    }
}

/// What happened: an action name, the object it was done to, and a compact summary of the
/// change (never secrets, tokens or message bodies).
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub target: Option<(&'static str, String)>,
    pub summary: Value,
}

impl Event {
    pub fn new(action: &'static str) -> Self {
        Self {
            action,
            target: None,
            summary: json!({}),
        }
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    pub fn summary(mut self, summary: Value) -> Self {
        self.summary = summary;
        self
    }
}

/// Appends an entry to the chain inside `txn`, the transaction of the change it records.
/// Call it last in the transaction: it takes the chain's lock, held until the commit.
pub async fn append(
    txn: &DatabaseTransaction,
    at: DateTime<Utc>,
    who: &Who,
    event: Event,
) -> CoreResult<i64> {
    let seq = append_many(txn, at, who, vec![event]).await?;
    Ok(seq)
}

/// Most entries written per statement by [`append_many`] (SQLite binds at most 32,766 values;
/// an entry has ten).
const ENTRIES_PER_STATEMENT: usize = 3_000;

/// Entries per statement on PostgreSQL's bulk path.
const BULK_ENTRIES: usize = 10_000;

/// An entry as written: a row of `json_to_recordset` on PostgreSQL's bulk path, an active model
/// otherwise.
#[derive(serde::Serialize)]
struct NewEntry {
    seq: i64,
    at: DateTime<Utc>,
    actor_member_id: Option<i64>,
    actor_role: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    summary: String,
    prev_hash: String,
    hash: String,
}

const BULK_COLUMNS: &[crate::db::bulk::Column] = &[
    ("seq", "bigint"),
    ("at", "timestamptz"),
    ("actor_member_id", "bigint"),
    ("actor_role", "text"),
    ("action", "text"),
    ("target_type", "text"),
    ("target_id", "text"),
    ("summary", "text"),
    ("prev_hash", "text"),
    ("hash", "text"),
];

impl NewEntry {
    fn into_active(self) -> audit_log::ActiveModel {
        audit_log::ActiveModel {
            seq: Set(self.seq),
            at: Set(self.at),
            actor_member_id: Set(self.actor_member_id),
            actor_role: Set(self.actor_role),
            action: Set(self.action),
            target_type: Set(self.target_type),
            target_id: Set(self.target_id),
            summary: Set(self.summary),
            prev_hash: Set(self.prev_hash),
            hash: Set(self.hash),
            ..Default::default()
        }
    }
}

/// Appends several entries in order, in one take of the chain's lock, written in bulk: for a
/// change of many objects at once (a roster import), each with its own entry. Returns the
/// position of the last (0 when `events` is empty). Call it last in the transaction.
pub async fn append_many(
    txn: &DatabaseTransaction,
    at: DateTime<Utc>,
    who: &Who,
    events: Vec<Event>,
) -> CoreResult<i64> {
    let Ok(n) = i64::try_from(events.len()) else {
        return Err(CoreError::Internal("too many audit entries at once".into()));
    };
    if n == 0 {
        return Ok(0);
    }
    let bumped = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(n),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    if bumped.rows_affected != 1 {
        return Err(CoreError::Internal(
            "the audit chain's head row is missing".into(),
        ));
    }
    let head = audit_head::Entity::find_by_id(1)
        .one(txn)
        .await?
        .ok_or_else(|| CoreError::Internal("the audit chain's head row is missing".into()))?;
    // Stored with microseconds, so that what is read back hashes the same.
    let at = at.trunc_subsecs(6);
    let mut prev = head.hash;
    let mut rows = Vec::with_capacity(events.len());
    for (seq, event) in (head.seq - n + 1..).zip(events) {
        let summary = summary_text(&event.summary);
        let (target_type, target_id) = match event.target {
            Some((t, id)) => (Some(t.to_string()), Some(id)),
            None => (None, None),
        };
        let hash = chain_hash(
            &prev,
            &canonical(
                seq,
                at,
                who.member_id,
                who.role.as_deref(),
                event.action,
                target_type.as_deref(),
                target_id.as_deref(),
                &summary,
            ),
        );
        rows.push(NewEntry {
            seq,
            at,
            actor_member_id: who.member_id,
            actor_role: who.role.clone(),
            action: event.action.to_string(),
            target_type,
            target_id,
            summary,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    if rows.len() > 1 && txn.get_database_backend() == DbBackend::Postgres {
        // Many entries (an import): the rows as one JSON parameter per statement (`db::bulk`).
        for chunk in rows.chunks(BULK_ENTRIES) {
            crate::db::bulk::insert(txn, "audit_log", BULK_COLUMNS, chunk, None).await?;
        }
    } else {
        let mut rows = rows.into_iter().map(NewEntry::into_active).peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(ENTRIES_PER_STATEMENT).collect();
            audit_log::Entity::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
    }
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(prev))
        .filter(audit_head::Column::Id.eq(1))
        .exec(txn)
        .await?;
    Ok(head.seq)
}

/// Saves a change to one row and its entry, in one transaction: the common case of a service
/// that edits one object.
pub async fn update<A>(
    core: &Core,
    who: &Who,
    am: A,
    event: Event,
) -> CoreResult<<A::Entity as EntityTrait>::Model>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let txn = crate::db::begin_write(&core.db).await?;
    let row = am.update(&txn).await?;
    append(&txn, core.now(), who, event).await?;
    txn.commit().await?;
    Ok(row)
}

/// Records an event that is a change of its own (a login, a refusal): its own transaction.
pub async fn record(core: &Core, who: &Who, event: Event) -> CoreResult<()> {
    let txn = crate::db::begin_write(&core.db).await?;
    append(&txn, core.now(), who, event).await?;
    txn.commit().await?;
    Ok(())
}

/// Entries of refusals written per caller and minute; beyond, refusals are only logged (a
/// member cannot fill the chain by hammering admin routes).
const DENIALS_PER_MINUTE: crate::ports::throttle::Rule = crate::ports::throttle::Rule {
    max: 10,
    window_secs: 60,
};

/// Records that a signed-in caller was refused an admin action (403). Never fails the
/// request: the refusal has been answered already.
pub async fn record_denied(core: &Core, actor: &Actor, method: &str, path: &str) {
    let key = format!("denied:{}", actor.member_id);
    let within = crate::ports::throttle::check(
        core.throttle.as_ref(),
        &key,
        DENIALS_PER_MINUTE,
        core.now(),
        "",
    )
    .await
    .is_ok();
    if !within {
        tracing::warn!(member.id = actor.member_id, %method, %path, "access denied (not written to the audit log: too many)");
        return;
    }
    let event = Event::new("access.denied").summary(json!({
        "method": method,
        "path": path.chars().take(256).collect::<String>(),
    }));
    if let Err(e) = record(core, &actor.into(), event).await {
        tracing::error!(error = %e, %method, %path, "could not write a refusal to the audit log");
    }
}
