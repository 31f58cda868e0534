//! The periods of a year in the organisation's zone.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::Period;

/// One period: its key, its words, and `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub key: String,
    pub label: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

const QUARTERS: [&str; 4] = ["第一季度", "第二季度", "第三季度", "第四季度"];

fn midnight(tz: Tz, y: i32, m: u32) -> DateTime<Utc> {
    let (y, m) = if m > 12 { (y + 1, m - 12) } else { (y, m) };
    let d = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or_default();
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or_else(
            || d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

/// The periods of `year` for `period`, in order.
pub fn spans(period: Period, year: i32, tz: Tz) -> Vec<Span> {
    match period {
        Period::Month => (1..=12)
            .map(|m| Span {
                key: format!("{year}-{m:02}"),
                label: format!("{m}月"),
                starts_at: midnight(tz, year, m),
                ends_at: midnight(tz, year, m + 1),
            })
            .collect(),
        Period::Quarter => (0..4u32)
            .map(|q| Span {
                key: format!("{year}-Q{}", q + 1),
                label: QUARTERS[q as usize].to_string(),
                starts_at: midnight(tz, year, q * 3 + 1),
                ends_at: midnight(tz, year, q * 3 + 4),
            })
            .collect(),
        Period::Year => vec![Span {
            key: year.to_string(),
            label: "全年".into(),
            starts_at: midnight(tz, year, 1),
            ends_at: midnight(tz, year, 13),
        }],
    }
}

/// The year `t` falls in, in `tz`.
pub fn year_of(t: DateTime<Utc>, tz: Tz) -> i32 {
    t.with_timezone(&tz).year()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_and_months_start_at_beijing_midnight() {
        let tz = chrono_tz::Asia::Shanghai;
        let q = spans(Period::Quarter, 2026, tz);
        assert_eq!(q.len(), 4);
        assert_eq!(q[0].key, "2026-Q1");
        assert_eq!(q[0].starts_at.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(q[3].ends_at.to_rfc3339(), "2026-12-31T16:00:00+00:00");
        let m = spans(Period::Month, 2026, tz);
        assert_eq!(
            (m[11].key.as_str(), m[11].label.as_str()),
            ("2026-12", "12月")
        );
        assert_eq!(m[1].ends_at, m[2].starts_at);
        assert_eq!(spans(Period::Year, 2026, tz)[0].key, "2026");
    }
}
