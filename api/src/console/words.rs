//! Times and schedules in the console's words: "12月1日 周二 09:00", "每月1日 09:00",
//! "每月第三个周三 14:00". Only a wording of what `core::broadcasts::schedule` evaluates; a
//! rule of a shape worded nowhere here is shown as its RRULE.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const RRULE_DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// A day and time, with the year when it is not this year's: "12月1日 周二 09:00".
pub(super) fn day_time(t: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> String {
    let l = t.with_timezone(&tz);
    let year = if l.year() == now.with_timezone(&tz).year() {
        String::new()
    } else {
        format!("{}年", l.year())
    };
    format!(
        "{year}{}月{}日 {} {:02}:{:02}",
        l.month(),
        l.day(),
        WEEKDAYS[l.weekday().num_days_from_monday() as usize],
        l.hour(),
        l.minute()
    )
}

/// `周三` for `WE`.
fn weekday(code: &str) -> Option<&'static str> {
    RRULE_DAYS
        .iter()
        .position(|d| d.eq_ignore_ascii_case(code))
        .map(|i| WEEKDAYS[i])
}

/// `第三个` for 3, `最后一个` for -1.
fn ordinal(n: i32) -> Option<String> {
    const NUM: [&str; 5] = ["一", "二", "三", "四", "五"];
    let word = |k: i32| usize::try_from(k - 1).ok().and_then(|i| NUM.get(i));
    match n {
        1..=5 => Some(format!("第{}个", word(n)?)),
        -1 => Some("最后一个".into()),
        -5..=-2 => Some(format!("倒数第{}个", word(-n)?)),
        _ => None,
    }
}

/// `1日`, `最后一天`, `倒数第2天`.
fn month_day(n: i32) -> Option<String> {
    match n {
        1..=31 => Some(format!("{n}日")),
        -1 => Some("最后一天".into()),
        -31..=-2 => Some(format!("倒数第{}天", -n)),
        _ => None,
    }
}

fn numbers(v: &str) -> Option<Vec<i32>> {
    v.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// `2MO` as (Some(2), "MO"), `FR` as (None, "FR").
fn by_day(v: &str) -> Option<(Option<i32>, &str)> {
    let v = v.trim();
    let split = v.len().checked_sub(2)?;
    let (n, code) = v.split_at(split);
    let n = if n.is_empty() {
        None
    } else {
        Some(n.trim_start_matches('+').parse().ok()?)
    };
    Some((n, code))
}

/// The rule `text` (as stored: `FREQ=...`) in words; `first` is its first occurrence in the
/// broadcast's zone, which supplies what the rule leaves to its start (the time of day, the day
/// of the month). `None` for a shape not worded here.
pub(super) fn rule(text: &str, first: DateTime<Tz>) -> Option<String> {
    let mut freq = None;
    let mut interval = 1u32;
    let (mut days, mut month_days, mut months) = (None, None, None);
    let (mut hours, mut minute) = (None, None);
    let mut end = String::new();
    for part in text.split(';').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=')?;
        match k.trim().to_ascii_uppercase().as_str() {
            "FREQ" => freq = Some(v.trim().to_ascii_uppercase()),
            "INTERVAL" => interval = v.trim().parse().ok()?,
            "BYDAY" => days = Some(v.split(',').map(by_day).collect::<Option<Vec<_>>>()?),
            "BYMONTHDAY" => month_days = Some(numbers(v)?),
            "BYMONTH" => months = Some(numbers(v)?),
            "BYHOUR" => hours = Some(numbers(v)?),
            "BYMINUTE" => minute = Some(*numbers(v)?.first()?),
            "BYSECOND" if v.trim() == "0" => {}
            "WKST" => {}
            "COUNT" => end = format!("，共{}次", v.trim()),
            "UNTIL" => {
                let d = v.trim();
                let (y, m, day) = (d.get(..4)?, d.get(4..6)?, d.get(6..8)?);
                end = format!(
                    "，至{}年{}月{}日",
                    y,
                    m.parse::<u32>().ok()?,
                    day.parse::<u32>().ok()?
                );
            }
            _ => return None,
        }
    }
    let minute = minute.unwrap_or(first.minute().cast_signed());
    let times = hours
        .unwrap_or_else(|| vec![first.hour().cast_signed()])
        .iter()
        .map(|h| format!("{h:02}:{minute:02}"))
        .collect::<Vec<_>>()
        .join("、");
    let join = |v: Vec<String>| v.join("、");
    let weekdays = |days: &[(Option<i32>, &str)]| -> Option<String> {
        days.iter()
            .map(|(n, d)| match n {
                None => weekday(d).map(str::to_string),
                Some(_) => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(join)
    };
    let every = |unit: &str, counted: &str| {
        if interval == 1 {
            format!("每{unit}")
        } else {
            format!("每{interval}{counted}")
        }
    };
    let when = match freq?.as_str() {
        "HOURLY" if days.is_none() && month_days.is_none() && months.is_none() => {
            return Some(format!("{}第{minute}分{end}", every("小时", "小时")));
        }
        "DAILY" if month_days.is_none() && months.is_none() => match &days {
            None => every("天", "天"),
            Some(d) => format!("{}（仅{}）", every("天", "天"), weekdays(d)?),
        },
        "WEEKLY" if month_days.is_none() && months.is_none() => {
            let d = match &days {
                Some(d) => weekdays(d)?,
                None => WEEKDAYS[first.weekday().num_days_from_monday() as usize].into(),
            };
            if interval == 1 {
                format!("每{d}")
            } else {
                format!("每{interval}周的{d}")
            }
        }
        "MONTHLY" => {
            let head = match months {
                Some(m) => format!(
                    "每年{}的",
                    join(m.iter().map(|m| format!("{m}月")).collect())
                ),
                None if interval == 1 => "每月".into(),
                None => format!("每{interval}个月的"),
            };
            let day = match (&month_days, &days) {
                (Some(md), None) => join(md.iter().map(|d| month_day(*d)).collect::<Option<_>>()?),
                (None, Some(d)) => join(
                    d.iter()
                        .map(|(n, code)| Some(format!("{}{}", ordinal((*n)?)?, weekday(code)?)))
                        .collect::<Option<_>>()?,
                ),
                (None, None) => format!("{}日", first.day()),
                (Some(_), Some(_)) => return None,
            };
            format!("{head}{day}")
        }
        "YEARLY" if days.is_none() => {
            let ms = months.unwrap_or_else(|| vec![first.month().cast_signed()]);
            let ds = month_days.unwrap_or_else(|| vec![first.day().cast_signed()]);
            if ms.len() != 1 || ds.len() != 1 {
                return None;
            }
            format!("{}{}月{}", every("年", "年"), ms[0], month_day(ds[0])?)
        }
        _ => return None,
    };
    Some(format!("{when} {times}{end}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    fn first() -> DateTime<Tz> {
        SH.with_ymd_and_hms(2026, 12, 4, 8, 30, 0).unwrap() // a Friday
    }

    #[test]
    fn the_rules_a_secretary_picks_read_as_the_branch_says_them() {
        let w = |t| rule(t, first()).unwrap();
        assert_eq!(
            w("FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0"),
            "每月1日 09:00"
        );
        assert_eq!(
            w("FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30"),
            "每周五 08:30"
        );
        assert_eq!(w("FREQ=WEEKLY;BYDAY=MO,WE"), "每周一、周三 08:30");
        assert_eq!(
            w("FREQ=MONTHLY;BYDAY=3WE;BYHOUR=14;BYMINUTE=0"),
            "每月第三个周三 14:00"
        );
        assert_eq!(
            w("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=15;BYMINUTE=0"),
            "每月最后一个周五 15:00"
        );
        assert_eq!(
            w("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=0"),
            "每月最后一天 17:00"
        );
        assert_eq!(
            w("FREQ=DAILY;BYHOUR=7;BYMINUTE=0;COUNT=10"),
            "每天 07:00，共10次"
        );
        assert_eq!(
            w("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1"),
            "每3个月的1日 08:30"
        );
        assert_eq!(
            w("FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0"),
            "每年1月、4月、7月、10月的1日 09:00"
        );
        assert_eq!(
            w("FREQ=YEARLY;BYMONTH=7;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;UNTIL=20301231T000000Z"),
            "每年7月1日 09:00，至2030年12月31日"
        );
        assert_eq!(w("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"), "每2周的周二 08:30");
        assert_eq!(w("FREQ=MONTHLY"), "每月4日 08:30");
    }

    #[test]
    fn a_shape_not_worded_here_is_left_to_its_rrule() {
        assert_eq!(
            rule("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", first()),
            None
        );
        assert_eq!(rule("FREQ=YEARLY;BYWEEKNO=20", first()), None);
    }

    #[test]
    fn a_day_and_time_names_the_year_only_when_it_is_not_this_one() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
        assert_eq!(day_time(t, SH, now), "12月1日 周二 09:00");
        let t = Utc.with_ymd_and_hms(2027, 1, 1, 1, 0, 0).unwrap();
        assert_eq!(day_time(t, SH, now), "2027年1月1日 周五 09:00");
    }
}
