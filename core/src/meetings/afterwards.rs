//! After the meeting: minutes, and make-up study for those who were not there.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;

use super::MAX_MINUTES_CHARS;
use super::invitees::invitees_audience;
use super::model::MeetingView;
use super::notices::remember;
use super::service::find_managed;
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::broadcasts::BroadcastInput;
use crate::broadcasts::service as broadcasts_service;
use crate::entities::{meeting_broadcasts, meetings};
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::{MeetingStatus, Purpose};
use crate::org::UnitTree;

/// Minutes in Markdown, once the meeting has ended.
pub async fn set_minutes(
    core: &Core,
    actor: &Actor,
    id: i64,
    minutes_md: String,
) -> CoreResult<MeetingView> {
    let now = core.now();
    let m = find_managed(core, actor, id).await?;
    let mut v = Violations::new();
    v.text(&minutes_md, "minutes_md", MAX_MINUTES_CHARS);
    v.finish()?;
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now < m.ends_at {
        return Err(CoreError::Conflict(
            "minutes can be attached once the meeting has ended".into(),
        ));
    }
    let chars = minutes_md.chars().count();
    let replaced = m.minutes_md.is_some();
    let mut am: meetings::ActiveModel = m.into();
    am.minutes_md = Set(Some(minutes_md));
    am.minutes_at = Set(Some(now));
    am.updated_at = Set(now);
    let row = audit::update(
        core,
        &actor.into(),
        am,
        Event::new("meeting.minutes")
            .target("meeting", id)
            .summary(json!({"characters": chars, "replaced": replaced})),
    )
    .await?;
    Ok(MeetingView::from_row(row))
}

/// The linked lesson again, to every invitee with no presence recorded (absent, or on leave),
/// with a read-by date. Returns the broadcast and how many it reaches.
pub async fn make_up(
    core: &Core,
    actor: &Actor,
    id: i64,
    read_by: Option<DateTime<Utc>>,
) -> CoreResult<(i64, u64, DateTime<Utc>)> {
    let now = core.now();
    let m = find_managed(core, actor, id).await?;
    let read_by = read_by.unwrap_or(now + Duration::days(7));
    if read_by <= now {
        return Err(CoreError::invalid("read_by", "must be in the future"));
    }
    if read_by > now + Duration::days(crate::broadcasts::service::MAX_READ_BY_DAYS) {
        return Err(CoreError::invalid(
            "read_by",
            "is more than two years ahead",
        ));
    }
    if m.status == MeetingStatus::Canceled {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now < m.ends_at {
        return Err(CoreError::Conflict(
            "make-up study is assigned once the meeting has ended".into(),
        ));
    }
    let Some(post_id) = m.post_id else {
        return Err(CoreError::Conflict(
            "the meeting has no linked lesson (post_id) to re-send".into(),
        ));
    };
    let already = meeting_broadcasts::Entity::find()
        .filter(meeting_broadcasts::Column::MeetingId.eq(id))
        .filter(meeting_broadcasts::Column::Purpose.eq(Purpose::MakeUp))
        .count(&core.db)
        .await?;
    if already > 0 {
        return Err(CoreError::Conflict(
            "make-up study was already assigned for this meeting".into(),
        ));
    }
    let audience = invitees_audience(id, &[], true);
    let tree = UnitTree::load(&core.db).await?;
    let n = audience.count(core, &tree).await?;
    if n == 0 {
        return Err(CoreError::Conflict(
            "every invitee attended; nobody needs make-up study".into(),
        ));
    }
    let b = broadcasts_service::create_part_of(
        core,
        actor,
        m.unit_id,
        BroadcastInput {
            post_id,
            audience,
            read_by: Some(read_by),
            timezone: Some(m.timezone.clone()),
            ..Default::default()
        },
    )
    .await?;
    let txn = crate::db::begin_write(&core.db).await?;
    remember(core, &txn, id, b.id, Purpose::MakeUp, None).await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("meeting.make_up").target("meeting", id).summary(
            json!({"broadcast_id": b.id, "post_id": post_id, "members": n, "read_by": read_by}),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok((b.id, n, read_by))
}
