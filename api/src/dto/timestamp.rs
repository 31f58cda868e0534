//! Times on the wire as chrono's serde writes them (RFC 3339 in UTC with `Z`, the fraction in
//! 0, 3, 6 or 9 digits, the fewest that show it whole), without going through `fmt`: the inbox
//! page writes three per line, and chrono's `Display` path was about a third of the page's
//! JSON in perf. A time outside what this writes (a year beyond 0..=9999, a leap second) is
//! written by chrono itself. For `#[serde(serialize_with = ...)]`.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::{Serialize, Serializer};

/// The longest text written: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const LONGEST: usize = 30;

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; LONGEST];
    match write(t, &mut buf).and_then(|n| std::str::from_utf8(&buf[..n]).ok()) {
        Some(text) => s.serialize_str(text),
        None => t.serialize(s),
    }
}

pub fn serialize_option<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serialize(t, s),
        None => s.serialize_none(),
    }
}

/// Writes `t` into `buf`, returning the length; `None` for what chrono writes otherwise.
fn write(t: &DateTime<Utc>, buf: &mut [u8; LONGEST]) -> Option<usize> {
    let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    digits(&mut buf[0..4], year);
    buf[4] = b'-';
    digits(&mut buf[5..7], t.month());
    buf[7] = b'-';
    digits(&mut buf[8..10], t.day());
    buf[10] = b'T';
    digits(&mut buf[11..13], t.hour());
    buf[13] = b':';
    digits(&mut buf[14..16], t.minute());
    buf[16] = b':';
    digits(&mut buf[17..19], t.second());
    let (fraction, width) = match nanos {
        0 => (0, 0),
        n if n % 1_000_000 == 0 => (n / 1_000_000, 3),
        n if n % 1_000 == 0 => (n / 1_000, 6),
        n => (n, 9),
    };
    let mut end = 19;
    if width > 0 {
        buf[end] = b'.';
        digits(&mut buf[end + 1..end + 1 + width], fraction);
        end += 1 + width;
    }
    buf[end] = b'Z';
    Some(end + 1)
}

/// `n` in decimal, zero-padded to fill `out`.
fn digits(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, TimeZone};

    use super::*;

    #[derive(Serialize)]
    struct Ours(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn ours(t: DateTime<Utc>) -> String {
        serde_json::to_string(&Ours(t)).unwrap()
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let base = Utc.with_ymd_and_hms(2026, 12, 2, 9, 5, 7).unwrap();
        let mut times = vec![
            base,
            base + Duration::milliseconds(120),
            base + Duration::microseconds(123_450),
            base + Duration::nanoseconds(1),
            base + Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            // Written by chrono: a year of five digits, one before year 0, a leap second.
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 6, 1, 0, 0, 0).unwrap(),
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        ];
        // A spread of instants with every kind of fraction.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let secs = i64::try_from(x % 253_402_300_799).unwrap();
            let nanos = u32::try_from(x % 1_000_000_000).unwrap();
            let nanos = match x % 4 {
                0 => 0,
                1 => nanos / 1_000_000 * 1_000_000,
                2 => nanos / 1_000 * 1_000,
                _ => nanos,
            };
            times.push(DateTime::from_timestamp(secs, nanos).unwrap());
        }
        for t in times {
            assert_eq!(ours(t), serde_json::to_string(&t).unwrap(), "{t:?}");
        }
        assert_eq!(
            ours(base + Duration::microseconds(123_450)),
            r#""2026-12-02T09:05:07.123450Z""#
        );
    }
}
