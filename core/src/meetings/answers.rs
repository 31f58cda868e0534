//! A member's own meetings: their invitation and their answer.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::model::{MeetingView, MyMeeting};
use super::validate::clean;
use super::words::Answer;
use crate::Core;
use crate::auth::Actor;
use crate::entities::{meeting_invitees, meetings};
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::MeetingStatus;

pub(super) async fn my_invitation(
    core: &Core,
    member_id: i64,
    id: i64,
) -> CoreResult<(meetings::Model, meeting_invitees::Model)> {
    let inv = meeting_invitees::Entity::find()
        .filter(meeting_invitees::Column::MeetingId.eq(id))
        .filter(meeting_invitees::Column::MemberId.eq(member_id))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("meeting"))?;
    let m = meetings::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("meeting"))?;
    Ok((m, inv))
}

pub(super) fn my_view(m: meetings::Model, inv: meeting_invitees::Model) -> MyMeeting {
    MyMeeting {
        meeting: MeetingView::from_row(m),
        answer: inv.answer,
        reason: inv.reason,
        attendance: inv.attendance,
        checked_in_at: inv.checked_in_at,
    }
}

pub async fn get_mine(core: &Core, actor: &Actor, id: i64) -> CoreResult<MyMeeting> {
    let (m, inv) = my_invitation(core, actor.member_id, id).await?;
    Ok(my_view(m, inv))
}

/// An invitee says they will attend, or asks for leave with a reason. The answer can change
/// until the start; after it, 409.
pub async fn answer(
    core: &Core,
    actor: &Actor,
    id: i64,
    answer: &str,
    reason: Option<String>,
) -> CoreResult<MyMeeting> {
    let now = core.now();
    let mut v = Violations::new();
    let parsed = Answer::parse(answer.trim()).filter(|a| *a != Answer::None);
    if parsed.is_none() {
        v.add("answer", "must be attending or leave");
    }
    let reason = clean(reason);
    if parsed == Some(Answer::Leave) && reason.is_none() {
        v.add("reason", "asking for leave needs a reason");
    }
    v.opt_text(reason.as_deref(), "reason", 500);
    let (m, inv) = my_invitation(core, actor.member_id, id).await?;
    v.finish()?;
    let Some(a) = parsed else {
        return Err(CoreError::Internal("answer without a violation".into()));
    };
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now >= m.starts_at {
        return Err(CoreError::Conflict(
            "the meeting has started; answers are closed".into(),
        ));
    }
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.answer = Set(a);
    am.reason = Set(if a == Answer::Leave { reason } else { None });
    am.answered_at = Set(Some(now));
    let inv = am.update(&core.db).await?;
    Ok(my_view(m, inv))
}
