//! When a broadcast's occurrences fall: an iCalendar RRULE (evaluated by the `rrule` crate)
//! anchored at the broadcast's start and evaluated in its time zone, so that "every month on
//! the 1st at 09:00" stays 09:00 local time across daylight-saving changes.
//!
//! Storage is UTC; the rule is only ever evaluated here.

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// How many occurrences one evaluation may look at (the crate's own loop limits also apply).
const SCAN_LIMIT: u16 = 1000;

/// A rule that parsed and can be evaluated. `text` is the normalised RRULE as stored.
#[derive(Debug, Clone)]
pub struct Rule {
    pub text: String,
    set: RRuleSet,
    tz: Tz,
}

/// Why a rule was refused; the message is shown to the admin as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn crate_message(e: rrule::RRuleError) -> String {
    match e {
        rrule::RRuleError::ParserError(p) => p.to_string(),
        rrule::RRuleError::ValidationError(v) => v.to_string(),
        rrule::RRuleError::IterError(s) => s,
    }
}

/// Reads the RRULE an admin sent: `FREQ=...` with or without the `RRULE:` prefix. The start
/// comes from `send_at` and the zone from `timezone`, so a DTSTART line is refused.
fn parse(text: &str) -> Result<(String, RRule<Unvalidated>), RuleError> {
    let t = text.trim();
    let t = match t.get(..6) {
        Some(p) if p.eq_ignore_ascii_case("RRULE:") => &t[6..],
        _ => t,
    };
    if t.contains(['\n', '\r']) || t.to_ascii_uppercase().contains("DTSTART") {
        return Err(RuleError(
            "give only the RRULE (e.g. FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0); the start is send_at and the zone is timezone".into(),
        ));
    }
    if t.len() > 500 {
        return Err(RuleError("is longer than 500 characters".into()));
    }
    let rule: RRule<Unvalidated> = guarded(|| t.parse().map_err(|e| RuleError(crate_message(e))))?;
    let hourly = || {
        RuleError(
            "may repeat at most hourly (FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY, with at most one BYMINUTE value and no BYSECOND other than 0)".into(),
        )
    };
    if matches!(rule.get_freq(), Frequency::Minutely | Frequency::Secondly) {
        return Err(hourly());
    }
    // Several minutes or seconds per hour would repeat more often than hourly, and long lists
    // multiply into millions of instants per year for the evaluator to build.
    if rule.get_by_minute().len() > 1 || rule.get_by_second().iter().any(|s| *s != 0) {
        return Err(hourly());
    }
    Ok((t.to_string(), rule))
}

/// Runs a call into the `rrule` crate, turning a panic inside it (it has `unwrap`s on dates
/// far outside the calendar) into a refusal instead of a dead worker thread.
fn guarded<T>(f: impl FnOnce() -> Result<T, RuleError>) -> Result<T, RuleError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(RuleError("cannot be evaluated for these dates".into())))
}

/// Occurrences closer than this are refused (a rule may repeat at most hourly).
const MIN_SPACING_SECS: i64 = 3600;

impl Rule {
    /// Builds the rule anchored at `start` (truncated to the minute, so that BYHOUR/BYMINUTE
    /// rules fire on the minute) in `tz`.
    pub fn new(text: &str, tz: Tz, start: DateTime<Utc>) -> Result<Self, RuleError> {
        let (text, rule) = parse(text)?;
        let start = start.duration_trunc(Duration::minutes(1)).unwrap_or(start);
        let set = guarded(|| {
            rule.build(start.with_timezone(&rrule::Tz::Tz(tz)))
                .map_err(|e| RuleError(crate_message(e)))
        })?;
        let r = Self { text, set, tz };
        // INTERVAL with BYHOUR lists can still bring two occurrences closer than an hour.
        let first = r.upcoming(start, 10);
        if first
            .windows(2)
            .any(|w| (w[1] - w[0]).num_seconds() < MIN_SPACING_SECS)
        {
            return Err(RuleError(
                "may repeat at most hourly; two of its first occurrences are less than an hour apart".into(),
            ));
        }
        Ok(r)
    }

    fn local(&self, t: DateTime<Utc>) -> DateTime<rrule::Tz> {
        t.with_timezone(&rrule::Tz::Tz(self.tz))
    }

    /// Occurrences at or after `from` and at or before `until`, at most [`SCAN_LIMIT`].
    fn between(
        &self,
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> (Vec<DateTime<Utc>>, bool) {
        let mut set = self.set.clone().after(self.local(from));
        if let Some(u) = until {
            set = set.before(self.local(u));
        }
        guarded(|| {
            let r = set.all(SCAN_LIMIT);
            Ok((
                r.dates.iter().map(|d| d.with_timezone(&Utc)).collect(),
                r.limited,
            ))
        })
        .unwrap_or_default()
    }

    /// The first occurrence at or after `from`.
    pub fn first_from(&self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let set = self.set.clone().after(self.local(from)).limit();
        guarded(|| Ok(set.all(1).dates.first().map(|d| d.with_timezone(&Utc))))
            .ok()
            .flatten()
    }

    /// What to run after the occurrence at `last` has gone out, given that it is now `now`.
    ///
    /// Normally that is the first occurrence after `last`. When the workers were down for a
    /// while and several occurrences are already due, only the latest of them is sent (one
    /// catch-up, not a burst of stale copies); the others are reported as skipped.
    pub fn next_after(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Next {
        let mut from = last + Duration::seconds(1);
        let mut skipped = 0usize;
        let mut latest_due = None;
        loop {
            if from > now {
                break;
            }
            let (due, limited) = self.between(from, Some(now));
            let Some(&l) = due.last() else { break };
            skipped += due.len();
            latest_due = Some(l);
            if !limited {
                break;
            }
            from = l + Duration::seconds(1);
        }
        match latest_due {
            Some(at) => Next {
                at: Some(at),
                skipped: skipped - 1,
            },
            None => Next {
                at: self.first_from(from.max(now)),
                skipped: 0,
            },
        }
    }

    /// Up to `n` occurrences from `from`: what the admin screens preview.
    pub fn upcoming(&self, from: DateTime<Utc>, n: u16) -> Vec<DateTime<Utc>> {
        let set = self.set.clone().after(self.local(from));
        guarded(|| {
            Ok(set
                .all(n)
                .dates
                .iter()
                .map(|d| d.with_timezone(&Utc))
                .collect())
        })
        .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    /// `None` when the rule has ended (COUNT or UNTIL).
    pub at: Option<DateTime<Utc>>,
    /// Due occurrences passed over in favour of the latest one.
    pub skipped: usize,
}

/// The key written into the inbox rows of one occurrence: 0 for a one-off broadcast, the
/// occurrence's Unix time for a recurring one. Unique per broadcast, and stable whatever
/// worker computes it.
pub fn occurrence_key(recurring: bool, at: DateTime<Utc>) -> i64 {
    if recurring { at.timestamp() } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn monthly_on_the_first_at_nine_shanghai_is_one_utc() {
        // Created on 2026-11-29 at 15:37:12 UTC.
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 15, 37, 12).unwrap();
        let r = Rule::new(
            "FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0",
            SHANGHAI,
            now,
        )
        .unwrap();
        assert_eq!(r.first_from(now), Some(utc(2026, 12, 1, 1, 0)));
        let n = r.next_after(utc(2026, 12, 1, 1, 0), utc(2026, 12, 1, 1, 3));
        assert_eq!(n.at, Some(utc(2027, 1, 1, 1, 0)));
        assert_eq!(n.skipped, 0);
    }

    #[test]
    fn weekly_friday_study_day() {
        let now = utc(2026, 11, 29, 0, 0); // a Sunday
        let r = Rule::new(
            "RRULE:FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30",
            SHANGHAI,
            now,
        )
        .unwrap();
        assert_eq!(
            r.upcoming(now, 3),
            vec![
                utc(2026, 12, 4, 0, 30),
                utc(2026, 12, 11, 0, 30),
                utc(2026, 12, 18, 0, 30)
            ]
        );
    }

    #[test]
    fn third_wednesday_lecture() {
        let now = utc(2026, 11, 29, 0, 0);
        let r = Rule::new("FREQ=MONTHLY;BYDAY=3WE;BYHOUR=14;BYMINUTE=0", SHANGHAI, now).unwrap();
        // December 2026: Wednesdays are 2, 9, 16; January 2027: 6, 13, 20.
        assert_eq!(
            r.upcoming(now, 2),
            vec![utc(2026, 12, 16, 6, 0), utc(2027, 1, 20, 6, 0)]
        );
    }

    #[test]
    fn count_ends_the_rule() {
        let now = utc(2026, 11, 29, 0, 0);
        let r = Rule::new("FREQ=DAILY;COUNT=2;BYHOUR=9;BYMINUTE=0", SHANGHAI, now).unwrap();
        // 00:00 UTC is 08:00 in Shanghai, so the first 09:00 is the same day.
        let first = r.first_from(now).unwrap();
        assert_eq!(first, utc(2026, 11, 29, 1, 0));
        let second = r.next_after(first, first).at.unwrap();
        assert_eq!(second, utc(2026, 11, 30, 1, 0));
        assert_eq!(r.next_after(second, second).at, None);
    }

    #[test]
    fn until_ends_the_rule() {
        let now = utc(2026, 11, 29, 0, 0);
        let r = Rule::new(
            "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;UNTIL=20261215T000000Z",
            SHANGHAI,
            now,
        )
        .unwrap();
        assert_eq!(
            r.upcoming(now, 10),
            vec![
                utc(2026, 11, 30, 1, 0),
                utc(2026, 12, 7, 1, 0),
                utc(2026, 12, 14, 1, 0)
            ]
        );
        assert_eq!(
            r.next_after(utc(2026, 12, 14, 1, 0), utc(2026, 12, 14, 1, 0))
                .at,
            None
        );
    }

    #[test]
    fn missed_occurrences_collapse_into_one_catch_up() {
        let now = utc(2026, 11, 29, 0, 0);
        let r = Rule::new("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", SHANGHAI, now).unwrap();
        // Last sent on the 30th; the workers come back on 3 December at 02:00 UTC.
        let n = r.next_after(utc(2026, 11, 30, 1, 0), utc(2026, 12, 3, 2, 0));
        assert_eq!(n.at, Some(utc(2026, 12, 3, 1, 0)));
        assert_eq!(n.skipped, 2);
    }

    #[test]
    fn local_time_holds_across_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        let now = utc(2027, 3, 20, 0, 0);
        let r = Rule::new("FREQ=WEEKLY;BYDAY=FR;BYHOUR=9;BYMINUTE=30", berlin, now).unwrap();
        // 26 March is CET (+01:00), 2 April is CEST (+02:00).
        assert_eq!(
            r.upcoming(now, 2),
            vec![utc(2027, 3, 26, 8, 30), utc(2027, 4, 2, 7, 30)]
        );
    }

    #[test]
    fn refused_rules() {
        let now = utc(2026, 11, 29, 0, 0);
        let bad = |s: &str| Rule::new(s, SHANGHAI, now).unwrap_err().0;
        assert!(
            bad("FREQ=SOMETIMES").to_lowercase().contains("freq"),
            "{}",
            bad("FREQ=SOMETIMES")
        );
        assert!(bad("FREQ=MINUTELY").contains("at most hourly"));
        assert!(bad("DTSTART:20261201T090000Z\nRRULE:FREQ=DAILY").contains("send_at"));
        assert!(!bad("BYHOUR=9").is_empty());
        // More often than hourly, directly or through lists.
        assert!(bad("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30").contains("at most hourly"));
        assert!(bad("FREQ=HOURLY;BYMINUTE=0;BYSECOND=0,30").contains("at most hourly"));
        let list = |n: u32| (0..n).map(|v| v.to_string()).collect::<Vec<_>>().join(",");
        let hostile = format!(
            "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={};BYMINUTE={};BYSECOND={}",
            list(24),
            list(60),
            list(60)
        );
        assert!(bad(&hostile).contains("at most hourly"));
        // Twice a day is fine; every hour is the limit.
        assert!(Rule::new("FREQ=DAILY;BYHOUR=9,14;BYMINUTE=0", SHANGHAI, now).is_ok());
        assert!(Rule::new("FREQ=HOURLY;BYMINUTE=0", SHANGHAI, now).is_ok());
        // A start at the end of the calendar does not panic (the service refuses such a
        // send_at before it gets here; this is the second line of defence).
        let far = DateTime::<Utc>::MAX_UTC - Duration::days(1);
        if let Ok(r) = Rule::new("FREQ=DAILY;BYHOUR=9;BYMINUTE=0", SHANGHAI, far) {
            let _ = r.first_from(far);
            let _ = r.next_after(far, far);
            let _ = r.upcoming(far, 5);
        }
        // Parses, but 30 February never comes.
        let never = Rule::new("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", SHANGHAI, now).unwrap();
        assert_eq!(never.first_from(now), None);
    }
}
