//! What a meeting sends: the notice, change and cancel notices, the reminders and nudges, each
//! a post and a broadcast of the meeting's unit, remembered in `meeting_broadcasts`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::invitees::{invitees_audience, reminder_audience};
use super::text::{details_md, local, tz_of, where_text};
use crate::Core;
use crate::audience::Audience;
use crate::auth::Actor;
use crate::broadcasts::service as broadcasts_service;
use crate::broadcasts::{BroadcastInput, Status as BroadcastStatus};
use crate::entities::{broadcasts, meeting_broadcasts, meetings};
use crate::error::CoreResult;
use crate::meetings::{Answer, MeetingStatus, Purpose};
use crate::posts::PostInput;

pub(super) async fn remember(
    core: &Core,
    db: &impl ConnectionTrait,
    meeting_id: i64,
    broadcast_id: i64,
    purpose: Purpose,
    offset: Option<i32>,
) -> CoreResult<()> {
    meeting_broadcasts::ActiveModel {
        broadcast_id: Set(broadcast_id),
        meeting_id: Set(meeting_id),
        purpose: Set(purpose),
        offset_minutes: Set(offset),
        created_at: Set(core.now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Publishes a post of kind `meeting` and broadcasts it to the invitees selected by `audience`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn send_notice(
    core: &Core,
    actor: &Actor,
    m: &meetings::Model,
    purpose: Purpose,
    title: String,
    body_md: String,
    audience: Audience,
    send_at: Option<DateTime<Utc>>,
    urgent: bool,
    offset: Option<i32>,
) -> CoreResult<i64> {
    let post = crate::posts::create_part_of(
        core,
        actor,
        m.unit_id,
        PostInput {
            kind: "meeting".into(),
            title: title.chars().take(200).collect(),
            summary: Some(
                format!("{} {}", local(m.starts_at, tz_of(core, m)), where_text(m))
                    .chars()
                    .take(500)
                    .collect(),
            ),
            body_md,
            ..Default::default()
        },
    )
    .await?;
    let b = broadcasts_service::create_part_of(
        core,
        actor,
        m.unit_id,
        BroadcastInput {
            post_id: post.id,
            audience,
            send_at,
            timezone: Some(m.timezone.clone()),
            urgent,
            ..Default::default()
        },
    )
    .await?;
    remember(core, &core.db, m.id, b.id, purpose, offset).await?;
    Ok(b.id)
}

/// Schedules the reminders still ahead: at each offset before the start, a reminder to those
/// who said they will attend and a nudge (with the same details, asking for an answer) to
/// those who have not answered. So every invitee not on leave gets one message per offset.
/// Who is who is decided when the occurrence fans out.
pub(super) async fn schedule_reminders(
    core: &Core,
    actor: &Actor,
    m: &meetings::Model,
) -> CoreResult<()> {
    let now = core.now();
    let offsets = m.reminder_offsets.0.iter().copied();
    let tz = tz_of(core, m);
    for offset in offsets {
        let at = m.starts_at - Duration::minutes(i64::from(offset));
        if at <= now {
            continue;
        }
        send_notice(
            core,
            actor,
            m,
            Purpose::Reminder,
            format!("会议提醒：{}", m.title),
            format!("您已报名参加，请准时出席。\n\n{}", details_md(m, tz)),
            reminder_audience(m.id, &[Answer::Attending]),
            Some(at),
            false,
            Some(offset),
        )
        .await?;
        send_notice(
            core,
            actor,
            m,
            Purpose::Nudge,
            format!("请回复是否参会：{}", m.title),
            format!(
                "您还没有回复是否参加，请在小程序中选择参加或请假（请假需写明原因）。\n\n{}",
                details_md(m, tz)
            ),
            reminder_audience(m.id, &[Answer::None]),
            Some(at),
            false,
            Some(offset),
        )
        .await?;
    }
    Ok(())
}

/// Cancels the reminders and nudges of a meeting that have not gone out yet.
pub(super) async fn cancel_reminders(core: &Core, meeting_id: i64) -> CoreResult<()> {
    let scheduled: Vec<i64> = broadcasts::Entity::find()
        .select_only()
        .column(broadcasts::Column::Id)
        .inner_join(meeting_broadcasts::Entity)
        .filter(meeting_broadcasts::Column::MeetingId.eq(meeting_id))
        .filter(meeting_broadcasts::Column::Purpose.is_in([Purpose::Reminder, Purpose::Nudge]))
        .filter(broadcasts::Column::Status.eq(BroadcastStatus::Scheduled))
        .order_by_asc(broadcasts::Column::Id)
        .into_tuple()
        .all(&core.db)
        .await?;
    for id in scheduled {
        // A reminder that started sending meanwhile is a 409 here: it goes out, as it should.
        broadcasts_service::cancel_part_of(core, id).await?;
    }
    Ok(())
}

/// The notice of a new meeting, remembered in `notice_broadcast_id`.
pub(super) async fn send_first_notice(
    core: &Core,
    actor: &Actor,
    row: meetings::Model,
) -> CoreResult<meetings::Model> {
    let tz = tz_of(core, &row);
    let notice = send_notice(
        core,
        actor,
        &row,
        Purpose::Notice,
        format!("会议通知：{}", row.title),
        format!(
            "{}\n请在小程序中回复参加或请假（请假需写明原因）。\n",
            details_md(&row, tz)
        ),
        invitees_audience(row.id, &[], false),
        None,
        false,
        None,
    )
    .await?;
    let mut am: meetings::ActiveModel = row.into();
    am.notice_broadcast_id = Set(Some(notice));
    Ok(am.update(&core.db).await?)
}

/// Finishes what [`create_in_series`] may have left undone after its insert (the worker died,
/// or a later step failed): the notice and the reminders, each only if none was recorded.
/// Called by the series materializer while it holds the series' lease, so never twice at once.
pub(crate) async fn complete_occurrence(
    core: &Core,
    actor: &Actor,
    row: meetings::Model,
) -> CoreResult<()> {
    if row.status != MeetingStatus::Scheduled {
        return Ok(());
    }
    let purposes: Vec<Purpose> = meeting_broadcasts::Entity::find()
        .filter(meeting_broadcasts::Column::MeetingId.eq(row.id))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|r| r.purpose)
        .collect();
    let has = |p: &[Purpose]| purposes.iter().any(|x| p.contains(x));
    let mut row = row;
    if !has(&[Purpose::Notice]) {
        tracing::warn!(
            meeting.id = row.id,
            "occurrence had no notice; sending it now"
        );
        row = send_first_notice(core, actor, row).await?;
    }
    if !has(&[Purpose::Reminder, Purpose::Nudge]) {
        schedule_reminders(core, actor, &row).await?;
    }
    Ok(())
}

/// Which broadcasts were sent for a meeting, oldest first: (broadcast id, purpose, offset).
pub async fn broadcasts_of(
    core: &Core,
    id: i64,
) -> CoreResult<Vec<(i64, Purpose, Option<i32>, BroadcastStatus)>> {
    Ok(meeting_broadcasts::Entity::find()
        .select_only()
        .columns([
            meeting_broadcasts::Column::BroadcastId,
            meeting_broadcasts::Column::Purpose,
            meeting_broadcasts::Column::OffsetMinutes,
        ])
        .column(broadcasts::Column::Status)
        .inner_join(broadcasts::Entity)
        .filter(meeting_broadcasts::Column::MeetingId.eq(id))
        .order_by_asc(meeting_broadcasts::Column::BroadcastId)
        .into_tuple()
        .all(&core.db)
        .await?)
}
