//! Checking a meeting's input once, for create and for a series' occurrences.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::DEFAULT_REMINDER_OFFSETS;
use super::MAX_AGENDA_CHARS;
use super::MAX_REMINDERS;
use super::model::MeetingInput;
use crate::Core;
use crate::audience::Audience;
use crate::auth::Actor;
use crate::error::{CoreError, CoreResult, Violations};
use crate::meetings::MeetingKind;
use crate::org::UnitTree;

pub(super) fn clean(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub(super) fn check_link(v: &mut Violations, link: Option<&str>) {
    if let Some(l) = link {
        let ok = (l.starts_with("https://") || l.starts_with("http://"))
            && l.len() <= 2048
            && !l.chars().any(char::is_whitespace);
        v.check(ok, "online_link", "must be an http(s) URL");
    }
}

pub(super) fn check_offsets(v: &mut Violations, offsets: &[i32]) -> Vec<i32> {
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

pub(super) fn check_times(
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

/// A meeting input that passed every check, ready to insert.
pub(crate) struct Prepared {
    pub(crate) kind: MeetingKind,
    pub(crate) title: String,
    pub(crate) unit_id: Option<i64>,
    pub(crate) starts_at: DateTime<Utc>,
    pub(crate) ends_at: DateTime<Utc>,
    pub(crate) place: Option<String>,
    pub(crate) online_link: Option<String>,
    pub(crate) agenda: String,
    pub(crate) audience: Audience,
    pub(crate) post_id: Option<i64>,
    pub(crate) tz: Tz,
    pub(crate) offsets: Vec<i32>,
    pub(crate) tree: UnitTree,
}

/// Checks a meeting input as `create` does, adding to `v` (the caller's own violations, so
/// that a client hears of every failing field at once).
pub(crate) async fn prepare(
    core: &Core,
    actor: &Actor,
    input: MeetingInput,
    mut v: Violations,
) -> CoreResult<Prepared> {
    crate::access::require_manager(actor)?;
    let now = core.now();
    let kind = MeetingKind::parse(input.kind.trim());
    if kind.is_none() {
        v.add("kind", format!("must be one of {}", MeetingKind::choices()));
    }
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
            v.add("unit_id", "does not exist");
        }
        Some(_) => {}
    }
    v.finish()?;
    if let Some(p) = input.post_id {
        let post = crate::posts::usable(core, actor, &tree, p).await?;
        crate::disclosures::check_lesson(&post)?;
    }
    let mut audience = input.audience;
    audience.meeting = None;
    audience.validate(core, &tree).await?;
    audience.restrict_to(&scope);
    if audience.count(core, &tree).await? == 0 {
        return Err(CoreError::invalid("audience", "selects no active member"));
    }
    Ok(Prepared {
        kind: kind.unwrap_or(MeetingKind::Other),
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
