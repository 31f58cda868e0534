//! Reading time: heartbeats from an open item, credited as far as the server can vouch.
//!
//! A client opening an item picks a random session key and reports every half minute or so
//! (and when the item is closed) how many seconds the item was visible since its last report.
//! The first heartbeat of a session only starts its clock. Each later one is credited
//! `min(visible seconds, wall time since the later of this session's last heartbeat and the
//! item's credited_until, what the post's study_minutes still allow)`:
//! - the wall time bounds what any client may claim;
//! - `credited_until` (the last instant already counted for the item, by any device) makes two
//!   devices reading at once count the same minutes once;
//! - `study_minutes` caps an item, and a post without study minutes credits nothing;
//! - a heartbeat with `closed` ends its session, and later heartbeats of it credit nothing.
//!
//! The credit, the session and the item's row change in one transaction; on PostgreSQL the
//! member's inbox item is locked first, so two heartbeats of one item are counted one after the
//! other (SQLite's write transactions are serial already).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{StudyKind, year_of};
use crate::Core;
use crate::entities::{inbox_items, posts, study_entries, study_sessions};
use crate::error::{CoreError, CoreResult, Violations};

/// Longest visible time one heartbeat may report.
pub const MAX_VISIBLE_SECONDS: i64 = 3600;

/// A heartbeat from an open item.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    /// The client's random key for this opening of the item (8 to 64 letters, digits, `-`, `_`).
    pub session: String,
    /// Seconds the item was visible since this session's previous heartbeat.
    pub visible_seconds: i64,
    /// The item was closed: this session ends.
    pub closed: bool,
}

/// What a heartbeat earned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credit {
    /// Seconds credited by this heartbeat.
    pub credited: i64,
    /// Seconds credited for the item so far.
    pub total: i64,
    /// The most the item can credit (its post's study minutes).
    pub limit: i64,
}

fn check(h: &Heartbeat) -> CoreResult<()> {
    let mut v = Violations::new();
    let key_ok = (8..=64).contains(&h.session.len())
        && h.session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    v.check(
        key_ok,
        "session",
        "must be 8 to 64 letters, digits, - or _ (a random key per opening of the item)",
    );
    v.check(
        (0..=MAX_VISIBLE_SECONDS).contains(&h.visible_seconds),
        "visible_seconds",
        "must be between 0 and 3600",
    );
    v.finish()
}

/// Credits a heartbeat of the member's own item `item_id`. Another member's item is not found.
pub async fn heartbeat(
    core: &Core,
    member_id: i64,
    item_id: i64,
    h: Heartbeat,
) -> CoreResult<Credit> {
    check(&h)?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let q = crate::db::for_update(
        inbox_items::Entity::find_by_id(item_id)
            .filter(inbox_items::Column::MemberId.eq(member_id)),
        &txn,
    );
    let item = q
        .one(&txn)
        .await?
        .ok_or(CoreError::NotFound("inbox item"))?;
    let post = posts::Entity::find_by_id(item.post_id)
        .one(&txn)
        .await?
        .ok_or(CoreError::NotFound("inbox item"))?;
    let limit = i64::from(post.study_minutes.max(0)) * 60;
    let entry = study_entries::Entity::find()
        .filter(study_entries::Column::Kind.eq(StudyKind::Reading))
        .filter(study_entries::Column::RefId.eq(item_id))
        .one(&txn)
        .await?;
    let total_before = entry.as_ref().map_or(0, |e| e.seconds);
    let session = study_sessions::Entity::find_by_id((item_id, h.session.clone()))
        .one(&txn)
        .await?;
    let closed_at = h.closed.then_some(now);
    let credited = match session {
        None => {
            // The first heartbeat of a session starts its clock.
            study_sessions::ActiveModel {
                inbox_item_id: Set(item_id),
                session_key: Set(h.session.clone()),
                member_id: Set(member_id),
                started_at: Set(now),
                last_at: Set(now),
                closed_at: Set(closed_at),
            }
            .insert(&txn)
            .await?;
            0
        }
        Some(s) if s.closed_at.is_some() => 0,
        Some(s) => {
            let from = s.last_at.max(
                entry
                    .as_ref()
                    .and_then(|e| e.credited_until)
                    .unwrap_or(s.last_at),
            );
            let wall = (now - from).num_seconds().max(0);
            let credit = h
                .visible_seconds
                .min(wall)
                .min((limit - total_before).max(0));
            let mut am: study_sessions::ActiveModel = s.into();
            am.last_at = Set(now);
            am.closed_at = Set(closed_at);
            am.update(&txn).await?;
            credit
        }
    };
    if credited > 0 {
        write_credit(
            &txn,
            core,
            member_id,
            item_id,
            &post.title,
            entry,
            credited,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Credit {
        credited,
        total: total_before + credited,
        limit,
    })
}

#[allow(clippy::too_many_arguments)]
async fn write_credit(
    txn: &sea_orm::DatabaseTransaction,
    core: &Core,
    member_id: i64,
    item_id: i64,
    title: &str,
    entry: Option<study_entries::Model>,
    credited: i64,
    now: DateTime<Utc>,
) -> CoreResult<()> {
    match entry {
        Some(e) => {
            let seconds = e.seconds + credited;
            let mut am: study_entries::ActiveModel = e.into();
            am.seconds = Set(seconds);
            am.credited_until = Set(Some(now));
            am.updated_at = Set(now);
            am.update(txn).await?;
        }
        None => {
            study_entries::ActiveModel {
                member_id: Set(member_id),
                year: Set(year_of(core, now)),
                kind: Set(StudyKind::Reading),
                ref_id: Set(Some(item_id)),
                title: Set(title.to_string()),
                seconds: Set(credited),
                credited_until: Set(Some(now)),
                note: Set(None),
                recorded_by: Set(None),
                occurred_at: Set(now),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
        }
    }
    Ok(())
}
