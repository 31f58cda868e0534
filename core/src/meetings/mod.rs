//! Meetings (三会一课): notice, answers, reminders, check-in, record, minutes, make-up study.
//!
//! A meeting reuses the broadcast machinery for everything it sends: the notice, a change or
//! cancellation, the reminders before the start and the make-up study task are each a post (of
//! kind `meeting`, or the linked lesson) and a broadcast whose audience is cut to the meeting's
//! invitees by [`MeetingSelector`], evaluated when the fan-out runs. So they reach inboxes
//! exactly once, go out on the push channels, and, when scheduled (reminders), survive restarts
//! like any other occurrence. `meeting_broadcasts` remembers which broadcast was sent for what.

pub mod checkin;
pub mod record;
pub mod series;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Core;
use crate::audience::{Audience, MeetingSelector};
use crate::audit::{self, Event};
use crate::auth::{Actor, Scope};
use crate::broadcasts::service as broadcasts_service;
use crate::broadcasts::{BroadcastInput, Status as BroadcastStatus};
use crate::entities::{broadcasts, meeting_broadcasts, meeting_invitees, meetings, members};
use crate::error::{CoreError, CoreResult, Violations, to_json};
use crate::org::UnitTree;
use crate::posts::PostInput;

pub const KINDS: [&str; 7] = [
    "general_meeting",
    "committee_meeting",
    "group_meeting",
    "party_lesson",
    "themed_day",
    "study_day",
    "other",
];
const KINDS_TEXT: &str = "must be one of general_meeting, committee_meeting, group_meeting, party_lesson, themed_day, study_day, other";
pub const DEFAULT_REMINDER_OFFSETS: [i32; 2] = [1440, 60];
pub const MAX_REMINDERS: usize = 5;
/// Check-in opens this long before the start.
pub const CHECK_IN_OPENS_MINUTES: i64 = 30;
/// A check-in later than this after the start is `late`.
pub const LATE_AFTER_MINUTES: i64 = 10;
/// Wrong check-in codes a member may enter for one meeting: 10 guesses of a 6-digit code
/// (two windows valid) succeed with odds of 2 in 100,000.
pub const MAX_CHECKIN_FAILURES: i32 = 10;
pub const MAX_AGENDA_CHARS: usize = 20_000;
pub const MAX_MINUTES_CHARS: usize = 100_000;

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "general_meeting" => "支部党员大会",
        "committee_meeting" => "支部委员会",
        "group_meeting" => "党小组会",
        "party_lesson" => "党课",
        "themed_day" => "主题党日",
        "study_day" => "学习日",
        _ => "会议",
    }
}

#[derive(Debug, Clone, Default)]
pub struct MeetingInput {
    pub kind: String,
    pub title: String,
    /// Defaults to the creator's unit.
    pub unit_id: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub audience: Audience,
    pub post_id: Option<i64>,
    pub timezone: Option<String>,
    pub reminder_offsets: Option<Vec<i32>>,
}

/// A change to a meeting; `None` leaves a field alone (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default)]
pub struct MeetingPatch {
    pub title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<Option<String>>,
    pub online_link: Option<Option<String>>,
    pub agenda: Option<String>,
    pub audience: Option<Audience>,
    pub post_id: Option<Option<i64>>,
    pub reminder_offsets: Option<Vec<i32>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    None,
    Attending,
    Leave,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::None => "none",
            Answer::Attending => "attending",
            Answer::Leave => "leave",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "none" => Answer::None,
            "attending" => Answer::Attending,
            "leave" => Answer::Leave,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct MeetingView {
    pub row: meetings::Model,
    pub audience: Audience,
    pub reminder_offsets: Vec<i32>,
}

impl MeetingView {
    pub fn from_row(row: meetings::Model) -> Self {
        Self {
            audience: serde_json::from_value(row.audience.clone()).unwrap_or_default(),
            reminder_offsets: serde_json::from_value(row.reminder_offsets.clone())
                .unwrap_or_default(),
            row,
        }
    }
}

/// A meeting as one invitee sees it.
#[derive(Debug, Clone)]
pub struct MyMeeting {
    pub meeting: MeetingView,
    pub answer: String,
    pub reason: Option<String>,
    pub attendance: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check_link(v: &mut Violations, link: Option<&str>) {
    if let Some(l) = link {
        let ok = (l.starts_with("https://") || l.starts_with("http://"))
            && l.len() <= 2048
            && !l.chars().any(char::is_whitespace);
        v.check(ok, "online_link", "must be an http(s) URL");
    }
}

fn check_offsets(v: &mut Violations, offsets: &[i32]) -> Vec<i32> {
    if offsets.len() > MAX_REMINDERS {
        v.add(
            "reminder_offsets",
            format!("at most {MAX_REMINDERS} reminders"),
        );
    }
    if offsets.iter().any(|o| !(1..=43_200).contains(o)) {
        v.add(
            "reminder_offsets",
            "each offset is minutes before the start, between 1 and 43200 (30 days)",
        );
    }
    let mut out = offsets.to_vec();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.dedup();
    out
}

fn check_times(
    v: &mut Violations,
    now: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) {
    v.check(
        starts_at >= now - Duration::seconds(60),
        "starts_at",
        "is in the past",
    );
    v.check(
        starts_at <= now + Duration::days(366 * 2),
        "starts_at",
        "is more than two years ahead",
    );
    v.check(ends_at > starts_at, "ends_at", "must be after starts_at");
    v.check(
        ends_at - starts_at <= Duration::days(7),
        "ends_at",
        "a meeting lasts at most 7 days",
    );
}

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

fn tz_of(core: &Core, m: &meetings::Model) -> Tz {
    m.timezone.parse().unwrap_or(core.settings.timezone)
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

pub fn where_text(m: &meetings::Model) -> String {
    match (&m.place, &m.online_link) {
        (Some(p), Some(l)) => format!("{p}（线上：{l}）"),
        (Some(p), None) => p.clone(),
        (None, Some(l)) => format!("线上：{l}"),
        (None, None) => "另行通知".into(),
    }
}

/// The meeting's details in Markdown: the body of every notice.
pub fn details_md(m: &meetings::Model, tz: Tz) -> String {
    let mut s = format!(
        "**会议**：{}（{}）\n\n**时间**：{} 至 {}\n\n**地点**：{}\n",
        m.title,
        kind_label(&m.kind),
        local(m.starts_at, tz),
        local(m.ends_at, tz),
        where_text(m),
    );
    if !m.agenda.trim().is_empty() {
        s.push_str(&format!("\n**议程**：\n\n{}\n", m.agenda.trim()));
    }
    s
}

/// Adds every member the audience selects as an invitee (existing invitees keep their answers);
/// with `prune`, removes invitees the audience no longer selects.
async fn resolve_invitees(
    db: &impl ConnectionTrait,
    meeting_id: i64,
    audience: &Audience,
    tree: &UnitTree,
    prune: bool,
) -> CoreResult<()> {
    let select = Query::select()
        .column(members::Column::Id)
        .expr(Expr::val(meeting_id))
        .expr(Expr::val(Answer::None.as_str()))
        .from(members::Entity)
        .cond_where(audience.condition(tree))
        .to_owned();
    let mut insert = Query::insert();
    insert
        .into_table(meeting_invitees::Entity)
        .columns([
            meeting_invitees::Column::MemberId,
            meeting_invitees::Column::MeetingId,
            meeting_invitees::Column::Answer,
        ])
        .select_from(select)
        .map_err(|e| CoreError::Internal(format!("invitee insert: {e}")))?
        .on_conflict(
            OnConflict::columns([
                meeting_invitees::Column::MeetingId,
                meeting_invitees::Column::MemberId,
            ])
            .do_nothing()
            .to_owned(),
        );
    db.execute(&insert).await?;
    if prune {
        meeting_invitees::Entity::delete_many()
            .filter(meeting_invitees::Column::MeetingId.eq(meeting_id))
            .filter(
                meeting_invitees::Column::MemberId.not_in_subquery(
                    Query::select()
                        .column(members::Column::Id)
                        .from(members::Entity)
                        .cond_where(audience.condition(tree))
                        .to_owned(),
                ),
            )
            .exec(db)
            .await?;
    }
    Ok(())
}

fn invitees_audience(meeting_id: i64, answers: &[&str], absent_only: bool) -> Audience {
    Audience {
        all: true,
        meeting: Some(MeetingSelector {
            meeting_id,
            answers: answers.iter().map(|a| a.to_string()).collect(),
            absent_only,
            only_while_scheduled: false,
        }),
        ..Default::default()
    }
}

/// Reminders and nudges: nobody once the meeting is canceled.
fn reminder_audience(meeting_id: i64, answers: &[&str]) -> Audience {
    let mut a = invitees_audience(meeting_id, answers, false);
    if let Some(m) = a.meeting.as_mut() {
        m.only_while_scheduled = true;
    }
    a
}

async fn remember(
    core: &Core,
    db: &impl ConnectionTrait,
    meeting_id: i64,
    broadcast_id: i64,
    purpose: &str,
    offset: Option<i32>,
) -> CoreResult<()> {
    meeting_broadcasts::ActiveModel {
        broadcast_id: Set(broadcast_id),
        meeting_id: Set(meeting_id),
        purpose: Set(purpose.into()),
        offset_minutes: Set(offset),
        created_at: Set(core.now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Publishes a post of kind `meeting` and broadcasts it to the invitees selected by `audience`.
#[allow(clippy::too_many_arguments)]
async fn send_notice(
    core: &Core,
    actor: &Actor,
    m: &meetings::Model,
    purpose: &str,
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
async fn schedule_reminders(core: &Core, actor: &Actor, m: &meetings::Model) -> CoreResult<()> {
    let now = core.now();
    let offsets: Vec<i32> = serde_json::from_value(m.reminder_offsets.clone()).unwrap_or_default();
    let tz = tz_of(core, m);
    for offset in offsets {
        let at = m.starts_at - Duration::minutes(offset as i64);
        if at <= now {
            continue;
        }
        send_notice(
            core,
            actor,
            m,
            "reminder",
            format!("会议提醒：{}", m.title),
            format!("您已报名参加，请准时出席。\n\n{}", details_md(m, tz)),
            reminder_audience(m.id, &["attending"]),
            Some(at),
            false,
            Some(offset),
        )
        .await?;
        send_notice(
            core,
            actor,
            m,
            "nudge",
            format!("请回复是否参会：{}", m.title),
            format!(
                "您还没有回复是否参加，请在小程序中选择参加或请假（请假需写明原因）。\n\n{}",
                details_md(m, tz)
            ),
            reminder_audience(m.id, &["none"]),
            Some(at),
            false,
            Some(offset),
        )
        .await?;
    }
    Ok(())
}

/// Cancels the reminders and nudges of a meeting that have not gone out yet.
async fn cancel_reminders(core: &Core, meeting_id: i64) -> CoreResult<()> {
    let ids: Vec<i64> = meeting_broadcasts::Entity::find()
        .filter(meeting_broadcasts::Column::MeetingId.eq(meeting_id))
        .filter(meeting_broadcasts::Column::Purpose.is_in(["reminder", "nudge"]))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|r| r.broadcast_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let scheduled: Vec<i64> = broadcasts::Entity::find()
        .filter(broadcasts::Column::Id.is_in(ids))
        .filter(broadcasts::Column::Status.eq(BroadcastStatus::Scheduled.as_str()))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    for id in scheduled {
        // A reminder that started sending meanwhile is a 409 here: it goes out, as it should.
        broadcasts_service::cancel_part_of(core, id).await?;
    }
    Ok(())
}

/// A meeting input that passed every check, ready to insert.
struct Prepared {
    kind: String,
    title: String,
    unit_id: Option<i64>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    place: Option<String>,
    online_link: Option<String>,
    agenda: String,
    audience: Audience,
    post_id: Option<i64>,
    tz: Tz,
    offsets: Vec<i32>,
    tree: UnitTree,
}

/// Checks a meeting input as `create` does, adding to `v` (the caller's own violations, so
/// that a client hears of every failing field at once).
async fn prepare(
    core: &Core,
    actor: &Actor,
    input: MeetingInput,
    mut v: Violations,
) -> CoreResult<Prepared> {
    crate::access::require_manager(actor)?;
    let now = core.now();
    v.check(KINDS.contains(&input.kind.as_str()), "kind", KINDS_TEXT);
    v.text(&input.title, "title", 200);
    check_times(&mut v, now, input.starts_at, input.ends_at);
    let place = clean(input.place);
    let online_link = clean(input.online_link);
    v.opt_text(place.as_deref(), "place", 200);
    check_link(&mut v, online_link.as_deref());
    if place.is_none() && online_link.is_none() {
        v.add("place", "give a place or an online_link");
    }
    let agenda = input.agenda.unwrap_or_default();
    v.check(
        agenda.chars().count() <= MAX_AGENDA_CHARS,
        "agenda",
        "must be at most 20000 characters",
    );
    let offsets = check_offsets(
        &mut v,
        input
            .reminder_offsets
            .as_deref()
            .unwrap_or(&DEFAULT_REMINDER_OFFSETS),
    );
    let tz: Tz = match input
        .timezone
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => core.settings.timezone,
        Some(t) => t.parse().unwrap_or_else(|_| {
            v.add("timezone", "is not an IANA time zone such as Asia/Shanghai");
            core.settings.timezone
        }),
    };
    let tree = UnitTree::load(&core.db).await?;
    let scope = tree.scope_of(actor);
    let unit_id = input.unit_id.or(actor.unit_id);
    match unit_id {
        None => v.add("unit_id", "give the unit that holds the meeting"),
        Some(u) if !tree.contains(u) || !scope.allows_unit(Some(u)) => {
            v.add("unit_id", "does not exist")
        }
        Some(_) => {}
    }
    v.finish()?;
    if let Some(p) = input.post_id {
        crate::posts::usable(core, actor, &tree, p).await?;
    }
    let mut audience = input.audience;
    audience.meeting = None;
    audience.validate(core, &tree).await?;
    audience.restrict_to(&scope);
    if audience.count(core, &tree).await? == 0 {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    Ok(Prepared {
        kind: input.kind,
        title: input.title.trim().to_string(),
        unit_id,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        place,
        online_link,
        agenda,
        audience,
        post_id: input.post_id,
        tz,
        offsets,
        tree,
    })
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
        audience: Set(to_json(&audience)?),
        post_id: Set(p.post_id),
        timezone: Set(tz.name().to_string()),
        reminder_offsets: Set(to_json(&p.offsets)?),
        series_id: Set(series_id),
        status: Set("scheduled".into()),
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

/// The notice of a new meeting, remembered in `notice_broadcast_id`.
async fn send_first_notice(
    core: &Core,
    actor: &Actor,
    row: meetings::Model,
) -> CoreResult<meetings::Model> {
    let tz = tz_of(core, &row);
    let notice = send_notice(
        core,
        actor,
        &row,
        "notice",
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
    if row.status != "scheduled" {
        return Ok(());
    }
    let purposes: Vec<String> = meeting_broadcasts::Entity::find()
        .filter(meeting_broadcasts::Column::MeetingId.eq(row.id))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|r| r.purpose)
        .collect();
    let has = |p: &[&str]| purposes.iter().any(|x| p.contains(&x.as_str()));
    let mut row = row;
    if !has(&["notice"]) {
        tracing::warn!(
            meeting.id = row.id,
            "occurrence had no notice; sending it now"
        );
        row = send_first_notice(core, actor, row).await?;
    }
    if !has(&["reminder", "nudge"]) {
        schedule_reminders(core, actor, &row).await?;
    }
    Ok(())
}

fn ensure_open(m: &meetings::Model, now: DateTime<Utc>) -> CoreResult<()> {
    if m.status == "canceled" {
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
            crate::posts::usable(core, actor, &tree, pid).await?;
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
        am.reminder_offsets = Set(to_json(o)?);
    }
    if let Some(a) = &audience {
        am.audience = Set(to_json(a)?);
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
        .filter(meetings::Column::Status.eq("scheduled"))
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
            "change",
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
        .col_expr(meetings::Column::Status, Expr::value("canceled"))
        .col_expr(meetings::Column::UpdatedAt, Expr::value(now))
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::Status.eq("scheduled"))
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
        "cancel",
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

async fn my_invitation(
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

fn my_view(m: meetings::Model, inv: meeting_invitees::Model) -> MyMeeting {
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
    if m.status == "canceled" {
        return Err(CoreError::Conflict("the meeting was canceled".into()));
    }
    if now >= m.starts_at {
        return Err(CoreError::Conflict(
            "the meeting has started; answers are closed".into(),
        ));
    }
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.answer = Set(a.as_str().into());
    am.reason = Set(if a == Answer::Leave { reason } else { None });
    am.answered_at = Set(Some(now));
    let inv = am.update(&core.db).await?;
    Ok(my_view(m, inv))
}

/// The organiser's current code and when it stops being the current one.
pub async fn checkin_code(
    core: &Core,
    actor: &Actor,
    id: i64,
) -> CoreResult<(String, DateTime<Utc>)> {
    let m = find_managed(core, actor, id).await?;
    if m.status == "canceled" {
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
    if m.status == "canceled" {
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
    if matches!(inv.attendance.as_deref(), Some("present" | "late")) {
        return Ok(my_view(m, inv));
    }
    let status = if now > m.starts_at + Duration::minutes(LATE_AFTER_MINUTES) {
        "late"
    } else {
        "present"
    };
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.attendance = Set(Some(status.into()));
    am.checked_in_at = Set(Some(now));
    am.check_in_method = Set(Some("code".into()));
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
    let status = status.trim();
    if !["present", "late", "absent"].contains(&status) {
        return Err(CoreError::invalid(
            "status",
            "must be present, late or absent",
        ));
    }
    let inv = meeting_invitees::Entity::find()
        .filter(meeting_invitees::Column::MeetingId.eq(id))
        .filter(meeting_invitees::Column::MemberId.eq(member_id))
        .one(&core.db)
        .await?
        .ok_or_else(|| CoreError::invalid("member_id", "is not invited to this meeting"))?;
    if m.status == "canceled" {
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
    let keep_time = status != "absent" && inv.checked_in_at.is_some();
    let first_time = inv.checked_in_at;
    let mut am: meeting_invitees::ActiveModel = inv.into();
    am.attendance = Set(Some(status.into()));
    // A code check-in keeps its own time; a hand record marks itself manual either way.
    am.checked_in_at = Set(if keep_time {
        first_time
    } else {
        (status != "absent").then_some(now)
    });
    am.check_in_method = Set(Some("manual".into()));
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
    if m.status == "canceled" {
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
    if m.status == "canceled" {
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
        .filter(meeting_broadcasts::Column::Purpose.eq("make_up"))
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
    remember(core, &txn, id, b.id, "make_up", None).await?;
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

/// Which broadcasts were sent for a meeting, oldest first: (broadcast id, purpose, offset).
pub async fn broadcasts_of(
    core: &Core,
    id: i64,
) -> CoreResult<Vec<(i64, String, Option<i32>, String)>> {
    let rows = meeting_broadcasts::Entity::find()
        .filter(meeting_broadcasts::Column::MeetingId.eq(id))
        .order_by_asc(meeting_broadcasts::Column::BroadcastId)
        .all(&core.db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.broadcast_id).collect();
    let status: HashMap<i64, String> = broadcasts::Entity::find()
        .filter(broadcasts::Column::Id.is_in(ids))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.status))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = status.get(&r.broadcast_id).cloned().unwrap_or_default();
            (r.broadcast_id, r.purpose, r.offset_minutes, s)
        })
        .collect())
}

pub fn scope_allows(scope: &Scope, m: &meetings::Model) -> bool {
    scope.allows_unit(m.unit_id)
}
