//! Creating, editing and cancelling meetings (the organiser's side).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use super::MAX_AGENDA_CHARS;
use super::invitees::{invitees_audience, resolve_invitees};
use super::model::{MeetingInput, MeetingPatch, MeetingView};
use super::notices::{cancel_reminders, schedule_reminders, send_first_notice, send_notice};
use super::text::{details_md, local, tz_of, where_text};
use super::validate::{check_link, check_offsets, check_times, clean, prepare};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::{Actor, Scope};
use crate::entities::{meeting_invitees, meetings};
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::{MeetingStatus, Purpose, ReminderOffsets};
use crate::org::UnitTree;

/// The meeting, if the actor manages its unit; otherwise it does not exist for them.
pub async fn find_managed(core: &Core, actor: &Actor, id: i64) -> CoreResult<meetings::Model> {
    crate::access::require_manager(actor)?;
    let m = meetings::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("meeting"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).allows_unit(m.unit_id) {
        return Err(CoreError::NotFound("meeting"));
    }
    Ok(m)
}

pub async fn create(core: &Core, actor: &Actor, input: MeetingInput) -> CoreResult<MeetingView> {
    create_in_series(core, actor, input, None).await
}

/// Creates a meeting, as an occurrence of `series_id` when given. An occurrence that exists
/// already (same series and start) fails with a unique violation before anything is sent
/// (see [`CoreError::is_unique_violation`]).
pub async fn create_in_series(
    core: &Core,
    actor: &Actor,
    input: MeetingInput,
    series_id: Option<i64>,
) -> CoreResult<MeetingView> {
    let now = core.now();
    let p = prepare(core, actor, input, Violations::new()).await?;
    let (tz, tree, audience) = (p.tz, p.tree, p.audience);
    let txn = crate::db::begin_write(&core.db).await?;
    let row = meetings::ActiveModel {
        kind: Set(p.kind),
        title: Set(p.title),
        unit_id: Set(p.unit_id),
        starts_at: Set(p.starts_at),
        ends_at: Set(p.ends_at),
        place: Set(p.place),
        online_link: Set(p.online_link),
        agenda: Set(p.agenda),
        audience: Set(audience.clone()),
        post_id: Set(p.post_id),
        timezone: Set(tz.name().to_string()),
        reminder_offsets: Set(ReminderOffsets(p.offsets.clone())),
        series_id: Set(series_id),
        status: Set(MeetingStatus::Scheduled),
        notice_broadcast_id: Set(None),
        minutes_md: Set(None),
        minutes_at: Set(None),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    resolve_invitees(&txn, row.id, &audience, &tree, false).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("meeting.create")
            .target("meeting", row.id)
            .summary(json!({
                "kind": row.kind,
                "title": row.title,
                "unit_id": row.unit_id,
                "starts_at": row.starts_at,
                "ends_at": row.ends_at,
                "series_id": series_id,
            })),
    )
    .await?;
    txn.commit().await?;

    let row = send_first_notice(core, actor, row).await?;
    schedule_reminders(core, actor, &row).await?;
    tracing::info!(meeting.id = row.id, kind = %row.kind, "meeting created");
    Ok(MeetingView::from_row(row))
}

pub(super) fn ensure_open(m: &meetings::Model, now: DateTime<Utc>) -> CoreResult<()> {
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now >= m.starts_at {
        return Err(CoreError::Conflict(
            "the meeting has already started; it can no longer be changed".into(),
        ));
    }
    Ok(())
}

/// Edits a meeting before it starts. A change of time or place notifies the invitees again
/// (urgent) and moves the reminders; a new audience re-resolves the invitees (those who stay
/// keep their answers).
pub async fn update(
    core: &Core,
    actor: &Actor,
    id: i64,
    p: MeetingPatch,
) -> CoreResult<MeetingView> {
    let now = core.now();
    let old = find_managed(core, actor, id).await?;
    ensure_open(&old, now)?;
    let mut v = Violations::new();
    if let Some(t) = &p.title {
        v.text(t, "title", 200);
    }
    let starts_at = p.starts_at.unwrap_or(old.starts_at);
    let ends_at = p.ends_at.unwrap_or(old.ends_at);
    if p.starts_at.is_some() || p.ends_at.is_some() {
        check_times(&mut v, now, starts_at, ends_at);
    }
    let place = match p.place {
        Some(x) => clean(x),
        None => old.place.clone(),
    };
    let online_link = match p.online_link {
        Some(x) => clean(x),
        None => old.online_link.clone(),
    };
    v.opt_text(place.as_deref(), "place", 200);
    check_link(&mut v, online_link.as_deref());
    if place.is_none() && online_link.is_none() {
        v.add("place", "give a place or an online_link");
    }
    if let Some(a) = &p.agenda {
        v.check(
            a.chars().count() <= MAX_AGENDA_CHARS,
            "agenda",
            "must be at most 20000 characters",
        );
    }
    let offsets = p
        .reminder_offsets
        .as_deref()
        .map(|o| check_offsets(&mut v, o));
    v.finish()?;
    let tree = UnitTree::load(&core.db).await?;
    let post_id = match p.post_id {
        Some(Some(pid)) => {
            let post = crate::posts::usable(core, actor, &tree, pid).await?;
            crate::disclosures::check_lesson(&post)?;
            Some(pid)
        }
        Some(None) => None,
        None => old.post_id,
    };
    let audience = match p.audience {
        Some(mut a) => {
            a.meeting = None;
            a.validate(core, &tree).await?;
            a.restrict_to(&tree.scope_of(actor));
            if a.count(core, &tree).await? == 0 {
                return Err(CoreError::invalid("audience", "selects no active member"));
            }
            Some(a)
        }
        None => None,
    };

    let mut am: meetings::ActiveModel = old.clone().into();
    if let Some(t) = p.title {
        am.title = Set(t.trim().to_string());
    }
    am.starts_at = Set(starts_at);
    am.ends_at = Set(ends_at);
    am.place = Set(place);
    am.online_link = Set(online_link);
    if let Some(a) = p.agenda {
        am.agenda = Set(a);
    }
    am.post_id = Set(post_id);
    if let Some(o) = &offsets {
        am.reminder_offsets = Set(ReminderOffsets(o.clone()));
    }
    if let Some(a) = &audience {
        am.audience = Set(a.clone());
    }
    am.updated_at = Set(now);
    if starts_at != old.starts_at || audience.is_some() {
        let checked_in = meeting_invitees::Entity::find()
            .filter(meeting_invitees::Column::MeetingId.eq(id))
            .filter(meeting_invitees::Column::Attendance.is_not_null())
            .count(&core.db)
            .await?;
        if checked_in > 0 {
            return Err(CoreError::Conflict(
                "people have already checked in; cancel this meeting and call a new one instead of moving it or changing who is invited".into(),
            ));
        }
    }
    let txn = crate::db::begin_write(&core.db).await?;
    // Compare-and-set on what this edit was computed from: two edits at once must not each
    // reschedule the reminders.
    let r = meetings::Entity::update_many()
        .set(am)
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::UpdatedAt.eq(old.updated_at))
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        txn.rollback().await?;
        return Err(CoreError::Conflict(
            "the meeting was changed meanwhile; look at it again and retry".into(),
        ));
    }
    let row = meetings::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(CoreError::NotFound("meeting"))?;
    if let Some(a) = &audience {
        resolve_invitees(&txn, id, a, &tree, true).await?;
    }
    let mut changed = serde_json::Map::new();
    if row.title != old.title {
        changed.insert("title".into(), json!(row.title));
    }
    if row.starts_at != old.starts_at || row.ends_at != old.ends_at {
        changed.insert(
            "time".into(),
            json!({"from": [old.starts_at, old.ends_at], "to": [row.starts_at, row.ends_at]}),
        );
    }
    if row.place != old.place || row.online_link != old.online_link {
        changed.insert("place".into(), json!(where_text(&row)));
    }
    for (differs, name) in [
        (row.agenda != old.agenda, "agenda"),
        (row.post_id != old.post_id, "post_id"),
        (
            row.reminder_offsets != old.reminder_offsets,
            "reminder_offsets",
        ),
        (audience.is_some(), "audience"),
    ] {
        if differs {
            changed.insert(name.into(), json!(true));
        }
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("meeting.update")
            .target("meeting", id)
            .summary(serde_json::Value::Object(changed)),
    )
    .await?;
    txn.commit().await?;

    let tz = tz_of(core, &row);
    let mut changes = vec![];
    if row.starts_at != old.starts_at || row.ends_at != old.ends_at {
        changes.push(format!(
            "时间改为 {} 至 {}（原定 {} 至 {}）",
            local(row.starts_at, tz),
            local(row.ends_at, tz),
            local(old.starts_at, tz),
            local(old.ends_at, tz)
        ));
    }
    if row.place != old.place || row.online_link != old.online_link {
        changes.push(format!(
            "地点改为 {}（原定 {}）",
            where_text(&row),
            where_text(&old)
        ));
    }
    if !changes.is_empty() {
        send_notice(
            core,
            actor,
            &row,
            Purpose::Change,
            format!("会议变更：{}", row.title),
            format!(
                "**变更**：{}\n\n{}",
                changes.join("；"),
                details_md(&row, tz)
            ),
            invitees_audience(id, &[], false),
            None,
            true,
            None,
        )
        .await?;
    }
    let reschedule = !changes.is_empty()
        || offsets.is_some()
        || row.title != old.title
        || row.agenda != old.agenda;
    if reschedule {
        cancel_reminders(core, id).await?;
        schedule_reminders(core, actor, &row).await?;
    }
    tracing::info!(meeting.id = id, changed = changes.len(), "meeting edited");
    Ok(MeetingView::from_row(row))
}

/// Cancels a meeting before it starts: its reminders stop and the invitees hear of it (urgent).
pub async fn cancel(
    core: &Core,
    actor: &Actor,
    id: i64,
    reason: Option<String>,
) -> CoreResult<MeetingView> {
    let now = core.now();
    let old = find_managed(core, actor, id).await?;
    ensure_open(&old, now)?;
    let reason = clean(reason);
    let mut v = Violations::new();
    v.opt_text(reason.as_deref(), "reason", 500);
    v.finish()?;
    let txn = crate::db::begin_write(&core.db).await?;
    let r = meetings::Entity::update_many()
        .col_expr(
            meetings::Column::Status,
            Expr::value(MeetingStatus::Canceled),
        )
        .col_expr(meetings::Column::UpdatedAt, Expr::value(now))
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("meeting.cancel")
            .target("meeting", id)
            .summary(json!({"reason": reason})),
    )
    .await?;
    txn.commit().await?;
    cancel_reminders(core, id).await?;
    let row = find_managed(core, actor, id).await?;
    let tz = tz_of(core, &row);
    send_notice(
        core,
        actor,
        &row,
        Purpose::Cancel,
        format!("会议取消：{}", row.title),
        format!(
            "**本次会议取消**{}\n\n{}",
            reason.map(|r| format!("：{r}")).unwrap_or_default(),
            details_md(&row, tz)
        ),
        invitees_audience(id, &[], false),
        None,
        true,
        None,
    )
    .await?;
    tracing::info!(meeting.id = id, "meeting canceled");
    Ok(MeetingView::from_row(row))
}

pub fn scope_allows(scope: &Scope, m: &meetings::Model) -> bool {
    scope.allows_unit(m.unit_id)
}
