//! Times of day: quiet hours as a span of the local day, and when the next one ends or the next
//! digest falls, in the organisation's zone.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A minute of the local day, 0 (00:00) to 1439 (23:59).
pub type Minute = u16;

/// Quiet hours: from `from` to `until` in local time, across midnight when `until` is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Minute,
    pub until: Minute,
}

/// `HH:MM` (24-hour) as a minute of the day.
pub fn parse_minute(s: &str) -> Option<Minute> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()?;
    Minute::try_from(t.hour() * 60 + t.minute()).ok()
}

pub fn minute_text(m: Minute) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `HH:MM-HH:MM`, or `off` (none): the form of `FINGERTIP_QUIET_HOURS`.
pub fn parse_span(s: &str) -> Option<Option<Span>> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Some(None);
    }
    let (a, b) = s.split_once('-')?;
    let span = Span {
        from: parse_minute(a)?,
        until: parse_minute(b)?,
    };
    (span.from != span.until).then_some(Some(span))
}

impl Span {
    /// When the quiet hours `now` falls in end; `None` when `now` is not in them.
    pub fn ends_after(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&tz);
        let m = Minute::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
        let inside = if self.from < self.until {
            self.from <= m && m < self.until
        } else {
            m >= self.from || m < self.until
        };
        inside.then(|| next_at(self.until, now, tz))
    }
}

/// The first instant after `now` whose local time is `m` (a time skipped by a clock change
/// moves to the first instant after the gap).
pub fn next_at(m: Minute, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let local = now.with_timezone(&tz);
    let time = NaiveTime::from_hms_opt(u32::from(m / 60), u32::from(m % 60), 0).unwrap_or_default();
    for days in 0..3 {
        let date = local.date_naive() + Duration::days(days);
        let mut naive = date.and_time(time);
        // A local time that does not exist that day (spring forward): a few minutes later.
        for _ in 0..=120 {
            if let Some(t) = tz.from_local_datetime(&naive).earliest() {
                let t = t.with_timezone(&Utc);
                if t > now {
                    return t;
                }
                break;
            }
            naive += Duration::minutes(1);
        }
    }
    now + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beijing(h: u32, m: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 12, 1, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_night_span_holds_until_the_morning() {
        let tz = chrono_tz::Asia::Shanghai;
        let night = parse_span("22:00-07:30").unwrap().unwrap();
        assert_eq!(night.ends_after(beijing(21, 59), tz), None);
        assert_eq!(
            night.ends_after(beijing(22, 0), tz),
            Some(beijing(7, 30) + Duration::days(1))
        );
        assert_eq!(night.ends_after(beijing(3, 0), tz), Some(beijing(7, 30)));
        assert_eq!(night.ends_after(beijing(7, 30), tz), None);
        let lunch = parse_span("12:00-13:30").unwrap().unwrap();
        assert_eq!(lunch.ends_after(beijing(12, 10), tz), Some(beijing(13, 30)));
        assert_eq!(lunch.ends_after(beijing(14, 0), tz), None);
    }

    #[test]
    fn spans_and_times_are_read_strictly() {
        assert_eq!(parse_span("off"), Some(None));
        for bad in ["22:00", "22-07", "25:00-07:00", "07:00-07:00", ""] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
        assert_eq!(parse_minute("20:00"), Some(1200));
        assert_eq!(parse_minute("8:05"), Some(485));
        assert_eq!(minute_text(485), "08:05");
        assert_eq!(parse_minute("24:00"), None);
    }

    #[test]
    fn the_next_digest_is_today_or_tomorrow() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(next_at(1200, beijing(9, 0), tz), beijing(20, 0));
        assert_eq!(
            next_at(1200, beijing(20, 0), tz),
            beijing(20, 0) + Duration::days(1)
        );
    }
}
