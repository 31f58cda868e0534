//! Checking a broadcast's schedule and channels: the zone, the one-off time or the rule and its
//! first occurrence, the read-by deadline.

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;

use super::model::Channel;
use crate::Core;
use crate::broadcasts::schedule::Rule;
use crate::error::Violations;

/// How far in the past a `send_at` may be before it is refused (a clock a little behind on
/// the admin's phone should not fail the request).
pub(super) const PAST_TOLERANCE_SECS: i64 = 60;

/// inbox, wechat, wecom.
pub const MAX_CHANNELS: usize = 3;
/// The longest IANA zone name is 32 characters.
pub const MAX_TIMEZONE_CHARS: usize = 64;
/// How far ahead a `read_by` deadline may be.
pub const MAX_READ_BY_DAYS: i64 = 366 * 2;

/// Every configured channel: the inbox and each push channel this server has.
pub(crate) fn all_channels(core: &Core) -> super::model::Channels {
    super::model::Channels(resolve_channels(core, None, &mut Violations::new()))
}

pub(super) fn resolve_channels(
    core: &Core,
    requested: Option<&[String]>,
    v: &mut Violations,
) -> Vec<Channel> {
    let wechat_on = core.settings.wechat.is_some();
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
pub(super) struct Timing {
    pub(super) tz: Tz,
    pub(super) send_at: DateTime<Utc>,
    pub(super) recurrence: Option<String>,
    /// The first occurrence still to run.
    pub(super) next_run_at: DateTime<Utc>,
}

/// The time zone named by the admin, or the server's default.
pub(super) fn resolve_tz(core: &Core, name: Option<&str>, v: &mut Violations) -> Tz {
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
pub(super) fn plan_timing(
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
    if let Some(first) = rule.first_from(from) {
        Some(Timing {
            tz,
            send_at,
            recurrence: Some(rule.text),
            next_run_at: first,
        })
    } else {
        v.add(
            "recurrence",
            "never fires from the start time on (check COUNT, UNTIL and the BY parts)",
        );
        None
    }
}

/// A deadline is one instant: it fits a one-off send, not every occurrence of a rule.
pub(super) fn check_read_by(
    read_by: Option<DateTime<Utc>>,
    timing: Option<&Timing>,
    v: &mut Violations,
) {
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
