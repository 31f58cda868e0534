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

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Core;
use crate::auth::{Actor, Role};
use crate::entities::{audit_head, audit_log};
use crate::error::{CoreError, CoreResult};
use crate::paging::{Page, PageRequest};

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Longest summary stored; a larger one is cut (and says so).
const MAX_SUMMARY_CHARS: usize = 4000;

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

fn at_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The bytes that are hashed for an entry (after the previous hash).
#[allow(clippy::too_many_arguments)]
fn canonical(
    seq: i64,
    at: DateTime<Utc>,
    actor: Option<i64>,
    role: Option<&str>,
    action: &str,
    target_type: Option<&str>,
    target_id: Option<&str>,
    summary: &str,
) -> String {
    json!([
        seq,
        at_text(at),
        actor,
        role,
        action,
        target_type,
        target_id,
        summary
    ])
    .to_string()
}

fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical.as_bytes());
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

fn hash_of(r: &audit_log::Model) -> String {
    chain_hash(
        &r.prev_hash,
        &canonical(
            r.seq,
            r.at,
            r.actor_member_id,
            r.actor_role.as_deref(),
            &r.action,
            r.target_type.as_deref(),
            r.target_id.as_deref(),
            &r.summary,
        ),
    )
}

fn summary_text(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= MAX_SUMMARY_CHARS {
        return s;
    }
    let cut: String = s.chars().take(MAX_SUMMARY_CHARS).collect();
    json!({"truncated": cut}).to_string()
}

/// Appends an entry to the chain inside `txn`, the transaction of the change it records.
/// Call it last in the transaction: it takes the chain's lock, held until the commit.
pub async fn append(
    txn: &DatabaseTransaction,
    at: DateTime<Utc>,
    who: &Who,
    event: Event,
) -> CoreResult<i64> {
    let bumped = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(1),
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
    let summary = summary_text(&event.summary);
    let (target_type, target_id) = match event.target {
        Some((t, id)) => (Some(t.to_string()), Some(id)),
        None => (None, None),
    };
    let hash = chain_hash(
        &head.hash,
        &canonical(
            head.seq,
            at,
            who.member_id,
            who.role.as_deref(),
            event.action,
            target_type.as_deref(),
            target_id.as_deref(),
            &summary,
        ),
    );
    audit_log::ActiveModel {
        seq: Set(head.seq),
        at: Set(at),
        actor_member_id: Set(who.member_id),
        actor_role: Set(who.role.clone()),
        action: Set(event.action.to_string()),
        target_type: Set(target_type),
        target_id: Set(target_id),
        summary: Set(summary),
        prev_hash: Set(head.hash),
        hash: Set(hash.clone()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(hash))
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
    if let Some(after) = page.after {
        cond = cond.add(audit_log::Column::Seq.lt(after));
    }
    let rows = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Seq)
        .limit(page.limit + 1)
        .all(&core.db)
        .await?;
    Ok(Page::from_rows(rows, page, |r| r.seq).map(|r| Entry {
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

/// The first entry that does not match, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The position the chain expected here.
    pub seq: i64,
    /// The row's id, when there is a row (a gap or a cut end has none).
    pub id: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked (up to and including the first mismatch).
    pub entries: u64,
    pub last_seq: i64,
    pub last_hash: String,
    pub first_mismatch: Option<Mismatch>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.first_mismatch.is_none()
    }
}

/// [`verify`] for an admin through the API.
pub async fn verify_as(core: &Core, actor: &Actor) -> CoreResult<Verification> {
    crate::access::require_admin(actor, "verifying the audit log")?;
    verify(&core.db).await
}

/// Recomputes the whole chain from the first entry, in pages.
pub async fn verify(db: &impl ConnectionTrait) -> CoreResult<Verification> {
    const PAGE: u64 = 1000;
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_string();
    let mut entries = 0u64;
    let bad = |seq, id, reason: String, entries, prev: &str| Verification {
        entries,
        last_seq: seq - 1,
        last_hash: prev.to_string(),
        first_mismatch: Some(Mismatch { seq, id, reason }),
    };
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Seq.gte(expected_seq))
            .order_by_asc(audit_log::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let n = rows.len() as u64;
        for r in rows {
            entries += 1;
            if r.seq != expected_seq {
                return Ok(bad(
                    expected_seq,
                    None,
                    format!(
                        "entry {expected_seq} is missing (the next one is {})",
                        r.seq
                    ),
                    entries,
                    &prev,
                ));
            }
            if r.prev_hash != prev {
                return Ok(bad(
                    r.seq,
                    Some(r.id),
                    "prev_hash is not the hash of the entry before".into(),
                    entries,
                    &prev,
                ));
            }
            if hash_of(&r) != r.hash {
                return Ok(bad(
                    r.seq,
                    Some(r.id),
                    "the entry's content does not match its hash".into(),
                    entries,
                    &prev,
                ));
            }
            prev = r.hash;
            expected_seq += 1;
        }
        if n < PAGE {
            break;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    let last_seq = expected_seq - 1;
    match head {
        Some(h) if h.seq == last_seq && h.hash == prev => Ok(Verification {
            entries,
            last_seq,
            last_hash: prev,
            first_mismatch: None,
        }),
        Some(h) if h.seq > last_seq => Ok(bad(
            expected_seq,
            None,
            format!(
                "the chain ends at entry {last_seq} but the head says {}: entries were removed",
                h.seq
            ),
            entries,
            &prev,
        )),
        _ => Ok(bad(
            expected_seq,
            None,
            "the chain's head does not match its last entry".into(),
            entries,
            &prev,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T01:02:03.456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let base = canonical(
            1,
            at,
            Some(7),
            Some("admin"),
            "post.create",
            Some("post"),
            Some("9"),
            "{}",
        );
        assert_eq!(
            base,
            r#"[1,"2026-12-01T01:02:03.456789Z",7,"admin","post.create","post","9","{}"]"#
        );
        let h = chain_hash(GENESIS_HASH, &base);
        assert_eq!(h.len(), 64);
        assert_ne!(h, chain_hash(&h, &base), "the previous hash is part of it");
        let other = canonical(
            1,
            at,
            Some(8),
            Some("admin"),
            "post.create",
            Some("post"),
            Some("9"),
            "{}",
        );
        assert_ne!(h, chain_hash(GENESIS_HASH, &other));
    }

    #[test]
    fn a_huge_summary_is_cut_and_says_so() {
        let big = json!({"x": "字".repeat(10_000)});
        let s = summary_text(&big);
        assert!(s.chars().count() < MAX_SUMMARY_CHARS + 50);
        assert!(s.starts_with(r#"{"truncated""#));
    }
}
