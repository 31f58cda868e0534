//! Offline study an admin or a secretary records for a member of their scope: a training
//! course, a reading-club (书香支部) session, a youth-forum (青年论坛) talk, or other, with its
//! date, length and a note; and removing a record made in error. Each is audited.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use super::{StudyKind, YEARS};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::study_entries;
use crate::error::{CoreError, CoreResult, Violations};

/// Longest single record: ten working days.
pub const MAX_RECORD_MINUTES: i64 = 6000;

#[derive(Debug, Clone)]
pub struct StudyRecord {
    pub member_id: i64,
    /// `course`, `reading_club`, `youth_forum` or `other`.
    pub kind: String,
    pub title: String,
    pub minutes: i64,
    /// The day it took place, in the organisation's zone.
    pub date: NaiveDate,
    pub note: Option<String>,
}

/// Records offline study; returns the new entry.
pub async fn record(
    core: &Core,
    actor: &Actor,
    r: StudyRecord,
) -> CoreResult<study_entries::Model> {
    crate::access::require_manager(actor)?;
    let mut v = Violations::new();
    let kind = StudyKind::parse(r.kind.trim()).filter(|k| StudyKind::OFFLINE.contains(k));
    v.check(
        kind.is_some(),
        "kind",
        "must be one of course, reading_club, youth_forum, other",
    );
    v.text(&r.title, "title", 200);
    v.opt_text(r.note.as_deref(), "note", 2000);
    v.check(
        (1..=MAX_RECORD_MINUTES).contains(&r.minutes),
        "minutes",
        "must be between 1 and 6000",
    );
    let now = core.now();
    let at = at_noon(core, r.date);
    v.check(
        at.is_some_and(|t| t <= now + chrono::Duration::days(1)),
        "date",
        "must be a day that has come",
    );
    v.check(
        YEARS.contains(&chrono::Datelike::year(&r.date)),
        "date",
        "is out of range",
    );
    v.finish()?;
    let (Some(kind), Some(at)) = (kind, at) else {
        return Err(CoreError::Internal("record without a violation".into()));
    };
    // The member must be in the actor's scope (another unit's member does not exist for them).
    crate::org::members::get(core, actor, r.member_id).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    let row = study_entries::ActiveModel {
        member_id: Set(r.member_id),
        year: Set(chrono::Datelike::year(&r.date)),
        kind: Set(kind),
        ref_id: Set(None),
        title: Set(r.title.trim().to_string()),
        seconds: Set(r.minutes * 60),
        credited_until: Set(None),
        note: Set(r
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())),
        recorded_by: Set(Some(actor.member_id)),
        occurred_at: Set(at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study.record")
            .target("study_entry", row.id)
            .summary(json!({"member_id": row.member_id, "kind": kind.as_str(),
                            "minutes": r.minutes, "date": r.date.to_string()})),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Removes an offline record of the actor's scope (reading is never removed by hand).
pub async fn remove(core: &Core, actor: &Actor, id: i64) -> CoreResult<()> {
    crate::access::require_manager(actor)?;
    let row = study_entries::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|r| StudyKind::OFFLINE.contains(&r.kind))
        .ok_or(CoreError::NotFound("study record"))?;
    crate::org::members::get(core, actor, row.member_id)
        .await
        .map_err(|e| match e {
            CoreError::NotFound(_) => CoreError::NotFound("study record"),
            e => e,
        })?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    // Removed once: a second removal at the same moment finds nothing and writes no entry.
    let gone = study_entries::Entity::delete_by_id(id).exec(&txn).await?;
    if gone.rows_affected == 0 {
        return Err(CoreError::NotFound("study record"));
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("study.remove")
            .target("study_entry", id)
            .summary(
                json!({"member_id": row.member_id, "kind": row.kind.as_str(),
                            "minutes": row.seconds / 60}),
            ),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Noon of `date` in the organisation's zone (a day's record sits in the middle of its day).
fn at_noon(core: &Core, date: NaiveDate) -> Option<DateTime<Utc>> {
    let t = date.and_hms_opt(12, 0, 0)?;
    core.settings
        .timezone
        .from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}
