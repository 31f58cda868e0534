//! Quiet hours and the off-site digest: when a push may reach a member's phone.
//!
//! The inbox is never held: only pushes are. A member's **quiet hours** (the organisation's,
//! 22:00–07:30 by default, or their own, or none) hold a non-urgent push until they end. A
//! member **off-site** (on an audit assignment) gets non-urgent pushes gathered into one
//! digest a day at their digest time: the push worker holds each until then, and at that time
//! sends the member one message for all of them (one WeChat consent, one WeCom budget slot).
//! Urgent pushes go at once: a broadcast marked urgent, a ladder's urgent step. Meeting
//! notices and reminders are never gathered into a digest (they are about a time), but they
//! wait out quiet hours like any other.
//!
//! [`Hold::of`] decides per delivery row; the channels in `push::send` act on it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

mod hours;
pub mod prefs;

pub use hours::{Minute, Span, minute_text, next_at, parse_minute, parse_span};
pub use prefs::{PrefsInput, PrefsView};

use crate::entities::member_push_prefs;
use crate::error::CoreResult;
use crate::settings::PushSettings;

/// What last_error says of a row held for the digest; such a row, once due, is part of it.
pub const HELD_FOR_DIGEST: &str = "digest: held for the member's daily digest (off-site)";
/// What last_error says of a row held through quiet hours.
pub const HELD_FOR_QUIET: &str = "quiet_hours: held until the member's quiet hours end";
/// How [`HELD_FOR_QUIET`] starts.
pub const QUIET_PREFIX: &str = "quiet_hours:";

/// A member's preferences as they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub quiet: Option<Span>,
    pub off_site: bool,
    pub digest_at: Minute,
}

impl Effective {
    pub fn defaults(s: &PushSettings) -> Self {
        Effective {
            quiet: s.quiet_hours,
            off_site: false,
            digest_at: s.digest_at,
        }
    }

    pub fn of(row: Option<&member_push_prefs::Model>, s: &PushSettings) -> Self {
        let d = Self::defaults(s);
        let Some(r) = row else { return d };
        let minute = |m: Option<i32>| {
            m.and_then(|m| Minute::try_from(m).ok())
                .filter(|m| *m < 1440)
        };
        let quiet = if r.quiet_off {
            None
        } else {
            match (minute(r.quiet_from), minute(r.quiet_until)) {
                (Some(from), Some(until)) if from != until => Some(Span { from, until }),
                _ => d.quiet,
            }
        };
        Effective {
            quiet,
            off_site: r.off_site,
            digest_at: minute(r.digest_at).unwrap_or(d.digest_at),
        }
    }
}

/// The preferences of these members; those without a row are left out (the defaults apply).
pub async fn load(
    db: &impl ConnectionTrait,
    member_ids: &[i64],
) -> CoreResult<HashMap<i64, member_push_prefs::Model>> {
    let mut out = HashMap::new();
    for chunk in member_ids.chunks(crate::db::IN_CHUNK) {
        for r in member_push_prefs::Entity::find()
            .filter(member_push_prefs::Column::MemberId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(r.member_id, r);
        }
    }
    Ok(out)
}

/// What becomes of a push now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// It goes out now, on its own.
    Send,
    /// It goes out now, in the member's digest with their other held pushes.
    Digest,
    /// Not before `at`; `why` is what the row says meanwhile.
    Until {
        at: DateTime<Utc>,
        why: &'static str,
    },
}

/// What a push is, for [`Hold::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Push {
    /// Urgent: goes at once, whatever the hour.
    pub urgent: bool,
    /// About a time (a meeting): never gathered into a digest.
    pub timely: bool,
    /// Held for the digest earlier, or already on its way once (tried, or put back by a budget
    /// or an outage): due now, it goes in the digest rather than waiting for the next one.
    pub held_for_digest: bool,
}

impl Hold {
    pub fn of(p: Push, e: Effective, now: DateTime<Utc>, tz: Tz) -> Hold {
        if p.urgent {
            return Hold::Send;
        }
        if e.off_site && !p.timely {
            if p.held_for_digest {
                return Hold::Digest;
            }
            return Hold::Until {
                at: next_at(e.digest_at, now, tz),
                why: HELD_FOR_DIGEST,
            };
        }
        if let Some(end) = e.quiet.and_then(|q| q.ends_after(now, tz)) {
            return Hold::Until {
                at: end,
                why: HELD_FOR_QUIET,
            };
        }
        Hold::Send
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    const TZ: Tz = chrono_tz::Asia::Shanghai;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        TZ.with_ymd_and_hms(2026, 12, 1, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn night() -> Effective {
        Effective {
            quiet: Some(Span {
                from: 22 * 60,
                until: 7 * 60 + 30,
            }),
            off_site: false,
            digest_at: 20 * 60,
        }
    }

    const PLAIN: Push = Push {
        urgent: false,
        timely: false,
        held_for_digest: false,
    };

    #[test]
    fn quiet_hours_hold_what_is_not_urgent() {
        assert_eq!(Hold::of(PLAIN, night(), at(21, 0), TZ), Hold::Send);
        assert_eq!(
            Hold::of(PLAIN, night(), at(23, 0), TZ),
            Hold::Until {
                at: at(7, 30) + Duration::days(1),
                why: HELD_FOR_QUIET
            }
        );
        let urgent = Push {
            urgent: true,
            ..PLAIN
        };
        assert_eq!(Hold::of(urgent, night(), at(23, 0), TZ), Hold::Send);
        let off = Effective {
            quiet: None,
            ..night()
        };
        assert_eq!(Hold::of(PLAIN, off, at(23, 0), TZ), Hold::Send);
    }

    #[test]
    fn off_site_gathers_into_the_digest_except_meetings_and_urgent() {
        let away = Effective {
            off_site: true,
            ..night()
        };
        assert_eq!(
            Hold::of(PLAIN, away, at(9, 0), TZ),
            Hold::Until {
                at: at(20, 0),
                why: HELD_FOR_DIGEST
            }
        );
        let held = Push {
            held_for_digest: true,
            ..PLAIN
        };
        assert_eq!(Hold::of(held, away, at(20, 0), TZ), Hold::Digest);
        let meeting = Push {
            timely: true,
            ..PLAIN
        };
        assert_eq!(Hold::of(meeting, away, at(9, 0), TZ), Hold::Send);
        assert!(matches!(
            Hold::of(meeting, away, at(23, 0), TZ),
            Hold::Until {
                why: HELD_FOR_QUIET,
                ..
            }
        ));
        let urgent = Push {
            urgent: true,
            ..PLAIN
        };
        assert_eq!(Hold::of(urgent, away, at(9, 0), TZ), Hold::Send);
    }
}
