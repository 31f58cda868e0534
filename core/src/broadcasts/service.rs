//! Creating, reading, listing and cancelling broadcasts.

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::schedule::{Rule, occurrence_key};
use crate::Core;
use crate::access;
use crate::audience::Audience;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::{broadcasts, posts};
use crate::error::{CoreError, CoreResult, Violations, to_json};
use crate::org::UnitTree;
use crate::paging::{Page, PageRequest};
use crate::ports::Job;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scheduled,
    Sending,
    Sent,
    Canceled,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Canceled => "canceled",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "scheduled" => Status::Scheduled,
            "sending" => Status::Sending,
            "sent" => Status::Sent,
            "canceled" => Status::Canceled,
            "failed" => Status::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Inbox,
    Wechat,
    Wecom,
}

impl Channel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "inbox" => Channel::Inbox,
            "wechat" => Channel::Wechat,
            "wecom" => Channel::Wecom,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct BroadcastInput {
    /// The unit the broadcast belongs to; see [`access::owner_unit`] for the default.
    pub unit_id: Option<i64>,
    pub post_id: i64,
    pub audience: Audience,
    /// Names as the client sent them; `None` means every configured channel.
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub timezone: Option<String>,
    pub read_by: Option<DateTime<Utc>>,
    pub urgent: bool,
}

#[derive(Debug, Clone)]
pub struct BroadcastView {
    pub id: i64,
    /// The unit the broadcast belongs to; `None`: the whole organisation.
    pub unit_id: Option<i64>,
    pub post_id: i64,
    pub title: String,
    pub status: Status,
    pub audience: Audience,
    pub channels: Vec<Channel>,
    pub send_at: DateTime<Utc>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub occurrences_sent: i64,
    /// The next few occurrences of a rule (filled in by [`find`]), for the admin to check it.
    pub upcoming: Vec<DateTime<Utc>>,
    pub timezone: String,
    pub read_by: Option<DateTime<Utc>>,
    pub urgent: bool,
    pub audience_size: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl BroadcastView {
    pub fn from_row(b: broadcasts::Model, title: String) -> Self {
        let status = Status::parse(&b.status).unwrap_or(Status::Failed);
        Self {
            id: b.id,
            unit_id: b.unit_id,
            post_id: b.post_id,
            title,
            status,
            audience: serde_json::from_value(b.audience).unwrap_or_default(),
            channels: serde_json::from_value(b.channels).unwrap_or_else(|_| vec![Channel::Inbox]),
            send_at: b.send_at,
            next_run_at: matches!(status, Status::Scheduled | Status::Sending)
                .then_some(b.next_run_at)
                .flatten(),
            recurrence: b.recurrence,
            occurrences_sent: b.occurrences_sent,
            upcoming: vec![],
            timezone: b.timezone,
            read_by: b.read_by,
            urgent: b.urgent,
            audience_size: b.audience_size,
            created_at: b.created_at,
            sent_at: b.sent_at,
        }
    }
}

/// How far in the past a `send_at` may be before it is refused (a clock a little behind on
/// the admin's phone should not fail the request).
const PAST_TOLERANCE_SECS: i64 = 60;

/// inbox, wechat, wecom.
pub const MAX_CHANNELS: usize = 3;
/// The longest IANA zone name is 32 characters.
pub const MAX_TIMEZONE_CHARS: usize = 64;
/// How far ahead a `read_by` deadline may be.
pub const MAX_READ_BY_DAYS: i64 = 366 * 2;

fn resolve_channels(core: &Core, requested: Option<&[String]>, v: &mut Violations) -> Vec<Channel> {
    let wechat_on = core.wechat.is_some();
    let wecom_on = core.settings.wecom.is_some();
    let mut out = vec![Channel::Inbox];
    match requested {
        None => {
            if wechat_on {
                out.push(Channel::Wechat);
            }
            if wecom_on {
                out.push(Channel::Wecom);
            }
        }
        Some(list) if list.len() > MAX_CHANNELS => {
            v.add("channels", "at most 3 channels: inbox, wechat, wecom");
        }
        Some(list) => {
            for name in list {
                match Channel::parse(name.trim()) {
                    None => v.add(
                        "channels",
                        format!(
                            "{:?} is not a channel (inbox, wechat, wecom)",
                            name.chars().take(16).collect::<String>()
                        ),
                    ),
                    Some(Channel::Wechat) if !wechat_on => v.add(
                        "channels",
                        "the wechat channel is not configured on this server",
                    ),
                    Some(Channel::Wecom) if !wecom_on => v.add(
                        "channels",
                        "the wecom channel is not configured on this server",
                    ),
                    Some(c) if !out.contains(&c) => out.push(c),
                    Some(_) => {}
                }
            }
        }
    }
    out
}

/// What a broadcast's schedule resolves to, once validated.
struct Timing {
    tz: Tz,
    send_at: DateTime<Utc>,
    recurrence: Option<String>,
    /// The first occurrence still to run.
    next_run_at: DateTime<Utc>,
}

/// The time zone named by the admin, or the server's default.
fn resolve_tz(core: &Core, name: Option<&str>, v: &mut Violations) -> Tz {
    match name.map(str::trim).filter(|t| !t.is_empty()) {
        None => core.settings.timezone,
        Some(t) if t.len() > MAX_TIMEZONE_CHARS => {
            v.add("timezone", "is not an IANA time zone such as Asia/Shanghai");
            core.settings.timezone
        }
        Some(t) => t.parse().unwrap_or_else(|_| {
            v.add("timezone", "is not an IANA time zone such as Asia/Shanghai");
            core.settings.timezone
        }),
    }
}

/// Validates `send_at` (the start of a rule, or the one-off time) and the rule, and works out
/// the first occurrence still to run. `new_send_at` is what the admin sent now (checked against
/// the clock); `kept_send_at` is the stored start of a broadcast being edited. `after` is the
/// last occurrence already sent, which is never run again.
fn plan_timing(
    now: DateTime<Utc>,
    tz: Tz,
    new_send_at: Option<DateTime<Utc>>,
    kept_send_at: Option<DateTime<Utc>>,
    recurrence: Option<&str>,
    after: Option<DateTime<Utc>>,
    v: &mut Violations,
) -> Option<Timing> {
    if let Some(at) = new_send_at {
        let in_past = at < now - Duration::seconds(PAST_TOLERANCE_SECS);
        let too_far = at > now + Duration::days(366 * 2);
        v.check(!in_past, "send_at", "is in the past");
        v.check(!too_far, "send_at", "is more than two years ahead");
        if in_past || too_far {
            // Never evaluate a rule from a start outside the window.
            return None;
        }
    }
    let send_at = new_send_at
        .map(|at| at.max(now))
        .or(kept_send_at)
        .unwrap_or(now);
    let recurrence = recurrence.map(str::trim).filter(|r| !r.is_empty());
    let Some(text) = recurrence else {
        if after.is_some_and(|a| send_at <= a) {
            v.add(
                "send_at",
                "is not after the occurrence already sent; give the time of the one-off send",
            );
            return None;
        }
        return Some(Timing {
            tz,
            send_at,
            recurrence: None,
            next_run_at: send_at,
        });
    };
    // A rule fires on the minute: anchor it and search from the same whole minute, so that a
    // rule "from now" includes this minute.
    let send_at = send_at
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(send_at);
    let rule = match Rule::new(text, tz, send_at) {
        Ok(r) => r,
        Err(e) => {
            v.add("recurrence", e.0);
            return None;
        }
    };
    let mut from = send_at.max(now - Duration::seconds(PAST_TOLERANCE_SECS));
    if let Some(a) = after {
        from = from.max(a + Duration::seconds(1));
    }
    match rule.first_from(from) {
        Some(first) => Some(Timing {
            tz,
            send_at,
            recurrence: Some(rule.text),
            next_run_at: first,
        }),
        None => {
            v.add(
                "recurrence",
                "never fires from the start time on (check COUNT, UNTIL and the BY parts)",
            );
            None
        }
    }
}

/// A deadline is one instant: it fits a one-off send, not every occurrence of a rule.
fn check_read_by(read_by: Option<DateTime<Utc>>, timing: Option<&Timing>, v: &mut Violations) {
    let (Some(rb), Some(t)) = (read_by, timing) else {
        return;
    };
    if t.recurrence.is_some() {
        v.add(
            "read_by",
            "cannot be combined with recurrence (every occurrence would share one deadline)",
        );
    } else {
        v.check(rb > t.next_run_at, "read_by", "must be after the send time");
        v.check(
            rb <= t.next_run_at + Duration::days(MAX_READ_BY_DAYS),
            "read_by",
            "is more than two years after the send time",
        );
    }
}

/// Wakes a worker for a broadcast that is due now. Only a wake-up call: if it is lost, the
/// workers' sweep finds the broadcast anyway.
async fn wake(core: &Core, id: i64) {
    if let Err(e) = core.queue.push(Job::Fanout { broadcast_id: id }).await {
        tracing::warn!(broadcast.id = id, error = %e, "could not queue the fan-out; the sweeper will pick it up");
    }
}

/// Schedules a broadcast. It belongs to `input.unit_id` (within the actor's scope; by default
/// the organisation for an admin and a secretary's own unit), sends a post the actor may use,
/// and its audience is cut to the actor's scope.
pub async fn create(
    core: &Core,
    actor: &Actor,
    input: BroadcastInput,
) -> CoreResult<BroadcastView> {
    access::require_manager(actor)?;
    let tree = UnitTree::load(&core.db).await?;
    let unit_id = access::owner_unit(&tree, actor, input.unit_id)?;
    insert(core, actor, unit_id, input, true).await
}

/// A broadcast made by another service as part of its own (audited) action, e.g. a meeting's
/// notice or reminder: it belongs to `unit_id` and writes no audit entry of its own.
pub(crate) async fn create_part_of(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    input: BroadcastInput,
) -> CoreResult<BroadcastView> {
    insert(core, actor, unit_id, input, false).await
}

async fn insert(
    core: &Core,
    actor: &Actor,
    unit_id: Option<i64>,
    mut input: BroadcastInput,
    audited: bool,
) -> CoreResult<BroadcastView> {
    let now = core.now();
    let mut v = Violations::new();
    let channels = resolve_channels(core, input.channels.as_deref(), &mut v);
    let tz = resolve_tz(core, input.timezone.as_deref(), &mut v);
    let timing = plan_timing(
        now,
        tz,
        input.send_at,
        None,
        input.recurrence.as_deref(),
        None,
        &mut v,
    );
    check_read_by(input.read_by, timing.as_ref(), &mut v);
    v.finish()?;
    let Some(timing) = timing else {
        return Err(CoreError::Internal("schedule without a violation".into()));
    };

    let tree = UnitTree::load(&core.db).await?;
    let post = crate::posts::usable(core, actor, &tree, input.post_id).await?;
    input.audience.validate(core, &tree).await?;
    input.audience.restrict_to(&tree.scope_of(actor));
    let size = input.audience.count(core, &tree).await?;
    let due_now = timing.next_run_at <= now;
    if size == 0 && due_now {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let status = if due_now {
        Status::Sending
    } else {
        Status::Scheduled
    };
    let recurring = timing.recurrence.is_some();
    let txn = crate::db::begin_write(&core.db).await?;
    let row = broadcasts::ActiveModel {
        unit_id: Set(unit_id),
        post_id: Set(post.id),
        audience: Set(to_json(&input.audience)?),
        channels: Set(to_json(&channels)?),
        status: Set(status.as_str().into()),
        send_at: Set(timing.send_at),
        timezone: Set(timing.tz.name().to_string()),
        read_by: Set(input.read_by),
        urgent: Set(input.urgent),
        audience_size: Set(size as i64),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
        lease_owner: Set(None),
        lease_until: Set(None),
        fanout_cursor: Set(0),
        recurrence: Set(timing.recurrence.clone()),
        next_run_at: Set(Some(timing.next_run_at)),
        occurrence: Set(occurrence_key(recurring, timing.next_run_at)),
        occurrences_sent: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if audited {
        audit::append(
            &txn,
            now,
            &actor.into(),
            Event::new("broadcast.create")
                .target("broadcast", row.id)
                .summary(json!({
                    "post_id": post.id,
                    "title": post.title,
                    "unit_id": unit_id,
                    "audience_size": size,
                    "status": status.as_str(),
                    "next_run_at": timing.next_run_at,
                    "recurrence": timing.recurrence,
                    "urgent": input.urgent,
                })),
        )
        .await?;
    }
    txn.commit().await?;
    if status == Status::Sending {
        wake(core, row.id).await;
    }
    tracing::info!(
        broadcast.id = row.id,
        post.id = post.id,
        audience.size = size,
        status = status.as_str(),
        next_run_at = %timing.next_run_at,
        recurring,
        "broadcast created"
    );
    Ok(BroadcastView::from_row(row, post.title))
}

/// The broadcast, if it belongs to the actor's scope; otherwise it does not exist for them.
pub async fn find_managed(core: &Core, actor: &Actor, id: i64) -> CoreResult<broadcasts::Model> {
    access::require_manager(actor)?;
    let row = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let tree = UnitTree::load(&core.db).await?;
    if !tree.scope_of(actor).owns(row.unit_id) {
        return Err(CoreError::NotFound("broadcast"));
    }
    Ok(row)
}

/// A change to a scheduled broadcast; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct BroadcastPatch {
    pub post_id: Option<i64>,
    pub audience: Option<Audience>,
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<Utc>>,
    /// `Some(None)` turns a recurring broadcast into a one-off at `send_at`.
    pub recurrence: Option<Option<String>>,
    pub timezone: Option<String>,
    pub read_by: Option<Option<DateTime<Utc>>>,
    pub urgent: Option<bool>,
}

/// Edits a broadcast whose next occurrence has not started: the time, the rule, the audience,
/// the post, the channels. 409 while an occurrence is being sent, and once nothing is left.
pub async fn update(
    core: &Core,
    actor: &Actor,
    id: i64,
    patch: BroadcastPatch,
) -> CoreResult<BroadcastView> {
    let now = core.now();
    let row = find_managed(core, actor, id).await?;
    let of_meeting = crate::entities::meeting_broadcasts::Entity::find()
        .filter(crate::entities::meeting_broadcasts::Column::BroadcastId.eq(id))
        .one(&core.db)
        .await?;
    if let Some(mb) = of_meeting {
        return Err(CoreError::Conflict(format!(
            "this broadcast belongs to meeting {} ({}); edit the meeting instead",
            mb.meeting_id, mb.purpose
        )));
    }
    let status = Status::parse(&row.status).unwrap_or(Status::Failed);
    match status {
        Status::Scheduled => {}
        Status::Sending => {
            return Err(CoreError::Conflict(
                "an occurrence of this broadcast is being sent right now; edit it once that is done".into(),
            ));
        }
        s => {
            return Err(CoreError::Conflict(format!(
                "the broadcast is already {}; there is nothing left to edit",
                s.as_str()
            )));
        }
    }
    let mut v = Violations::new();
    let channels = patch
        .channels
        .as_deref()
        .map(|list| resolve_channels(core, Some(list), &mut v));
    let tz = match &patch.timezone {
        Some(t) => resolve_tz(core, Some(t), &mut v),
        None => row.timezone.parse().unwrap_or(core.settings.timezone),
    };
    let recurrence = match &patch.recurrence {
        Some(r) => r.clone(),
        None => row.recurrence.clone(),
    }
    .filter(|r| !r.trim().is_empty());
    // The occurrence already sent (if any) never runs again, whatever the new rule says.
    let last_sent = (row.occurrences_sent > 0 && row.recurrence.is_some())
        .then(|| DateTime::from_timestamp(row.occurrence, 0))
        .flatten();
    if row.recurrence.is_some() && recurrence.is_none() && patch.send_at.is_none() {
        v.add(
            "send_at",
            "give the time of the one-off send when removing the rule",
        );
    }
    let timing = plan_timing(
        now,
        tz,
        patch.send_at,
        Some(row.send_at),
        recurrence.as_deref(),
        last_sent,
        &mut v,
    );
    let read_by = patch.read_by.unwrap_or(row.read_by);
    check_read_by(read_by, timing.as_ref(), &mut v);
    v.finish()?;
    let Some(timing) = timing else {
        return Err(CoreError::Internal("schedule without a violation".into()));
    };

    let tree = UnitTree::load(&core.db).await?;
    let post = match patch.post_id {
        Some(p) if p != row.post_id => crate::posts::usable(core, actor, &tree, p).await?,
        // The post it already sends stays usable, whoever wrote it.
        _ => posts::Entity::find_by_id(row.post_id)
            .one(&core.db)
            .await?
            .ok_or_else(|| CoreError::invalid("post_id", "does not exist"))?,
    };
    let stored: Audience = serde_json::from_value(row.audience.clone()).unwrap_or_default();
    let audience_changed = patch.audience.is_some();
    let mut audience: Audience = match patch.audience {
        Some(mut a) => {
            a.validate(core, &tree).await?;
            // The cut made when it was created (a secretary's scope) stays.
            a.scope_units = stored.scope_units.clone();
            a
        }
        None => stored,
    };
    audience.restrict_to(&tree.scope_of(actor));
    let size = audience.count(core, &tree).await?;
    let due_now = timing.next_run_at <= now;
    if size == 0 && due_now {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    let recurring = timing.recurrence.is_some();
    let mut am: broadcasts::ActiveModel = row.clone().into();
    am.post_id = Set(post.id);
    am.audience = Set(to_json(&audience)?);
    if let Some(c) = channels {
        am.channels = Set(to_json(&c)?);
    }
    am.send_at = Set(timing.send_at);
    am.timezone = Set(timing.tz.name().to_string());
    am.recurrence = Set(timing.recurrence);
    am.next_run_at = Set(Some(timing.next_run_at));
    am.read_by = Set(read_by);
    am.urgent = Set(patch.urgent.unwrap_or(row.urgent));
    am.audience_size = Set(size as i64);
    am.updated_at = Set(now);
    // Only while still scheduled: a worker that promoted it meanwhile wins, and we say so.
    let txn = crate::db::begin_write(&core.db).await?;
    let r = broadcasts::Entity::update_many()
        .set(am)
        .filter(broadcasts::Column::Id.eq(id))
        .filter(broadcasts::Column::Status.eq(Status::Scheduled.as_str()))
        // Compare-and-set on what this edit was computed from: an occurrence that started
        // (and maybe finished) meanwhile makes the edit fail rather than re-run it.
        .filter(broadcasts::Column::OccurrencesSent.eq(row.occurrences_sent))
        .filter(match row.next_run_at {
            Some(at) => broadcasts::Column::NextRunAt.eq(at),
            None => broadcasts::Column::NextRunAt.is_null(),
        })
        .exec(&txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(CoreError::Conflict(
            "the broadcast started sending while it was being edited; nothing was changed; look at it again and retry".into(),
        ));
    }
    let mut changed: Vec<&str> = vec![];
    for (given, name) in [
        (patch.post_id.is_some(), "post_id"),
        (audience_changed, "audience"),
        (patch.channels.is_some(), "channels"),
        (patch.send_at.is_some(), "send_at"),
        (patch.recurrence.is_some(), "recurrence"),
        (patch.timezone.is_some(), "timezone"),
        (patch.read_by.is_some(), "read_by"),
        (patch.urgent.is_some(), "urgent"),
    ] {
        if given {
            changed.push(name);
        }
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("broadcast.update")
            .target("broadcast", id)
            .summary(json!({
                "changed": changed,
                "audience_size": size,
                "next_run_at": timing.next_run_at,
            })),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(broadcast.id = id, next_run_at = %timing.next_run_at, recurring, "broadcast edited");
    if due_now {
        // Due at once: the workers' next pass promotes it; wake them.
        wake(core, id).await;
    }
    find(core, id).await
}

/// One broadcast as the actor may see it (one of their scope's).
pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<BroadcastView> {
    find_managed(core, actor, id).await?;
    find(core, id).await
}

/// The view of a broadcast, with its next occurrences; no access check (see [`get`]).
pub(crate) async fn find(core: &Core, id: i64) -> CoreResult<BroadcastView> {
    let b = broadcasts::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("broadcast"))?;
    let title = posts::Entity::find_by_id(b.post_id)
        .one(&core.db)
        .await?
        .map(|p| p.title)
        .unwrap_or_default();
    let mut view = BroadcastView::from_row(b, title);
    if let (Some(text), Some(next)) = (&view.recurrence, view.next_run_at) {
        let tz = view.timezone.parse().unwrap_or(core.settings.timezone);
        if let Ok(rule) = Rule::new(text, tz, view.send_at) {
            view.upcoming = rule.upcoming(next, 5);
        }
    }
    Ok(view)
}

/// Newest first, optionally with one status: the broadcasts of the actor's scope.
pub async fn list(
    core: &Core,
    actor: &Actor,
    status: Option<&str>,
    page: PageRequest,
) -> CoreResult<Page<BroadcastView>> {
    access::require_manager(actor)?;
    let mut cond = Condition::all();
    if let Some(s) = status {
        let s = Status::parse(s).ok_or_else(|| {
            CoreError::invalid(
                "status",
                "must be one of scheduled, sending, sent, canceled, failed",
            )
        })?;
        cond = cond.add(broadcasts::Column::Status.eq(s.as_str()));
    }
    let tree = UnitTree::load(&core.db).await?;
    if let Some(units) = tree.scope_of(actor).units() {
        cond = cond.add(broadcasts::Column::UnitId.is_in(units));
    }
    if let Some(after) = page.after {
        cond = cond.add(broadcasts::Column::Id.lt(after));
    }
    let rows = broadcasts::Entity::find()
        .filter(cond)
        .order_by_desc(broadcasts::Column::Id)
        .limit(page.limit + 1)
        .all(&core.db)
        .await?;
    let post_ids: Vec<i64> = rows.iter().map(|b| b.post_id).collect();
    let titles: std::collections::HashMap<i64, String> = posts::Entity::find()
        .filter(posts::Column::Id.is_in(post_ids))
        .all(&core.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.title))
        .collect();
    Ok(Page::from_rows(rows, page, |b| b.id).map(|b| {
        let t = titles.get(&b.post_id).cloned().unwrap_or_default();
        BroadcastView::from_row(b, t)
    }))
}

/// Cancels a broadcast of the actor's scope that has not finished sending, and every future
/// occurrence of a recurring one. 409 once it is sent or canceled.
pub async fn cancel(core: &Core, actor: &Actor, id: i64) -> CoreResult<BroadcastView> {
    find_managed(core, actor, id).await?;
    let txn = crate::db::begin_write(&core.db).await?;
    let canceled = cancel_in(core, &txn, id).await?;
    if canceled {
        audit::append(
            &txn,
            core.now(),
            &actor.into(),
            Event::new("broadcast.cancel").target("broadcast", id),
        )
        .await?;
    }
    txn.commit().await?;
    let view = find(core, id).await?;
    if !canceled {
        return Err(CoreError::Conflict(format!(
            "the broadcast is already {}; there is nothing left to cancel",
            view.status.as_str()
        )));
    }
    tracing::info!(broadcast.id = id, "broadcast canceled");
    Ok(view)
}

/// Cancels a broadcast as part of another service's (audited) action, e.g. a meeting's
/// reminders when it moves; `Ok(false)` when it had already gone out or been canceled.
pub(crate) async fn cancel_part_of(core: &Core, id: i64) -> CoreResult<bool> {
    let txn = crate::db::begin_write(&core.db).await?;
    let canceled = cancel_in(core, &txn, id).await?;
    txn.commit().await?;
    Ok(canceled)
}

async fn cancel_in(core: &Core, txn: &sea_orm::DatabaseTransaction, id: i64) -> CoreResult<bool> {
    let r = broadcasts::Entity::update_many()
        .col_expr(
            broadcasts::Column::Status,
            Expr::value(Status::Canceled.as_str()),
        )
        .col_expr(broadcasts::Column::UpdatedAt, Expr::value(core.now()))
        .col_expr(
            broadcasts::Column::NextRunAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(broadcasts::Column::Id.eq(id))
        .filter(
            broadcasts::Column::Status
                .is_in([Status::Scheduled.as_str(), Status::Sending.as_str()]),
        )
        .exec(txn)
        .await?;
    Ok(r.rows_affected > 0)
}
