//! The chain itself: the canonical form of an entry, its hash over the previous one, and
//! verification of the whole chain from its first entry.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Core;
use crate::auth::Actor;
use crate::entities::{audit_head, audit_log};
use crate::error::CoreResult;

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest summary stored; a larger one is cut (and says so).
pub(super) const MAX_SUMMARY_CHARS: usize = 4000;

pub(super) fn at_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The bytes that are hashed for an entry (after the previous hash).
#[allow(clippy::too_many_arguments)]
pub(super) fn canonical(
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

pub(super) fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(canonical.as_bytes());
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

pub(super) fn hash_of(r: &audit_log::Model) -> String {
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

pub(super) fn summary_text(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= MAX_SUMMARY_CHARS {
        return s;
    }
    let cut: String = s.chars().take(MAX_SUMMARY_CHARS).collect();
    json!({"truncated": cut}).to_string()
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
