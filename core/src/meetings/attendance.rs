//! Check-in with the rotating code, and attendance recorded by hand.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use secrecy::ExposeSecret;
use serde_json::json;

use super::CHECK_IN_OPENS_MINUTES;
use super::LATE_AFTER_MINUTES;
use super::MAX_CHECKIN_FAILURES;
use super::answers::{my_invitation, my_view};
use super::checkin;
use super::model::MyMeeting;
use super::service::find_managed;
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::{meeting_invitees, members};
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::{Attendance, CheckInMethod, MeetingStatus};
use crate::org::UnitTree;

/// The organiser's current code and when it stops being the current one.
pub async fn checkin_code(
    core: &Core,
    actor: &Actor,
    id: i64,
) -> CoreResult<(String, DateTime<Utc>)> {
    let m = find_managed(core, actor, id).await?;
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    let now = core.now();
    if now > m.ends_at {
        return Err(CoreError::Conflict(
            "the meeting has ended; check-in is closed".into(),
        ));
    }
    let key = checkin::derive_key(core.settings.auth.jwt_secret.expose_secret());
    let w = checkin::window_of(now);
    Ok((checkin::code(&key, id, w), checkin::window_end(w)))
}

/// A member checks in with the code on the organiser's phone (the current or the previous
/// one), from 30 minutes before the start to the end; more than 10 minutes after the start is
/// `late`. Checking in again keeps the first record.
pub async fn check_in(core: &Core, actor: &Actor, id: i64, code: &str) -> CoreResult<MyMeeting> {
    let now = core.now();
    let (m, inv) = my_invitation(core, actor.member_id, id).await?;
    let mut v = Violations::new();
    v.text(code, "code", 16);
    v.finish()?;
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    let opens = m.starts_at - Duration::minutes(CHECK_IN_OPENS_MINUTES);
    if now < opens {
        return Err(CoreError::Conflict(
            "check-in opens 30 minutes before the start".into(),
        ));
    }
    if now > m.ends_at {
        return Err(CoreError::Conflict(
            "the meeting has ended; check-in is closed".into(),
        ));
    }
    // Each guess takes one of the member's MAX_CHECKIN_FAILURES tries *before* the code is
    // looked at (an atomic increment that fails once they are used up), and a right code
    // gives its try back: so concurrent guesses can never evaluate more than the limit.
    let reserved = meeting_invitees::Entity::update_many()
        .col_expr(
            meeting_invitees::Column::CheckinFailures,
            Expr::col(meeting_invitees::Column::CheckinFailures).add(1),
        )
        .filter(meeting_invitees::Column::Id.eq(inv.id))
        .filter(meeting_invitees::Column::CheckinFailures.lt(MAX_CHECKIN_FAILURES))
        .exec(&core.db)
        .await?;
    if reserved.rows_affected == 0 {
        return Err(CoreError::RateLimited {
            message: "too many wrong codes; ask the organiser to record your attendance".into(),
            retry_after_secs: 3600,
        });
    }
    let key = checkin::derive_key(core.settings.auth.jwt_secret.expose_secret());
    if !checkin::accepts(&key, id, now, code) {
        return Err(CoreError::invalid(
            "code",
            "is wrong or has expired; enter the code shown now",
        ));
    }
    meeting_invitees::Entity::update_many()
        .col_expr(
            meeting_invitees::Column::CheckinFailures,
            Expr::col(meeting_invitees::Column::CheckinFailures).sub(1),
        )
        .filter(meeting_invitees::Column::Id.eq(inv.id))
        .exec(&core.db)
        .await?;
    if matches!(inv.attendance, Some(Attendance::Present | Attendance::Late)) {
        return Ok(my_view(m, inv));
    }
    let status = if now > m.starts_at + Duration::minutes(LATE_AFTER_MINUTES) {
        Attendance::Late
    } else {
        Attendance::Present
    };
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.attendance = Set(Some(status));
    am.checked_in_at = Set(Some(now));
    am.check_in_method = Set(Some(CheckInMethod::Code));
    am.recorded_by = Set(None);
    let inv = am.update(&core.db).await?;
    Ok(my_view(m, inv))
}

/// An admin records attendance by hand (`present`, `late`, `absent`), marked `manual`.
pub async fn record_attendance(
    core: &Core,
    actor: &Actor,
    id: i64,
    member_id: i64,
    status: &str,
) -> CoreResult<meeting_invitees::Model> {
    let now = core.now();
    let m = find_managed(core, actor, id).await?;
    let Some(status) = Attendance::parse(status.trim()) else {
        return Err(CoreError::invalid(
            "status",
            format!("must be {}", Attendance::choices()),
        ));
    };
    let inv = meeting_invitees::Entity::find()
        .filter(meeting_invitees::Column::MeetingId.eq(id))
        .filter(meeting_invitees::Column::MemberId.eq(member_id))
        .one(&core.db)
        .await?
        .ok_or_else(|| CoreError::invalid("member_id", "is not invited to this meeting"))?;
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now < m.starts_at - Duration::minutes(CHECK_IN_OPENS_MINUTES) {
        return Err(CoreError::Conflict(
            "attendance can be recorded from 30 minutes before the start".into(),
        ));
    }
    // A secretary records only members of their own subtree.
    let member = members::Entity::find_by_id(member_id)
        .one(&core.db)
        .await?
        .ok_or_else(|| CoreError::invalid("member_id", "is not invited to this meeting"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).allows_unit(member.unit_id) {
        return Err(CoreError::Forbidden(
            "this member is outside the units you manage".into(),
        ));
    }
    let keep_time = status != Attendance::Absent && inv.checked_in_at.is_some();
    let first_time = inv.checked_in_at;
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.attendance = Set(Some(status));
    // A code check-in keeps its own time; a hand record marks itself manual either way.
    am.checked_in_at = Set(if keep_time {
        first_time
    } else {
        (status != Attendance::Absent).then_some(now)
    });
    am.check_in_method = Set(Some(CheckInMethod::Manual));
    am.recorded_by = Set(Some(actor.member_id));
    audit::update(
        core,
        &actor.into(),
        am,
        Event::new("meeting.attendance")
            .target("meeting", id)
            .summary(json!({"member_id": member_id, "status": status})),
    )
    .await
}
