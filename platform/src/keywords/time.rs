//! Dates and times: reading them out of free text, and fitting `time`/`date` keywords.

use super::KeywordType;
use super::chars::collapse_whitespace;
use super::chars::halfwidth;

/// Reads `min..=max` ASCII digits at `i`; (value, end).
pub(super) fn read_digits(s: &[char], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut end = i;
    let mut value: u32 = 0;
    while end < s.len() && end - i < max && s[end].is_ascii_digit() {
        value = value * 10 + s[end].to_digit(10)?;
        end += 1;
    }
    (end - i >= min).then_some((value, end))
}

pub(super) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY年M月D日`, `YYYY-M-D`, `YYYY/M/D` at `i`; returns the end.
pub(super) fn parse_date(s: &[char], i: usize) -> Option<usize> {
    let (year, j) = read_digits(s, i, 4, 4)?;
    let sep = *s.get(j)?;
    let (month_end, day_end) = match sep {
        '年' => ('月', Some('日')),
        '-' | '/' => (sep, None),
        _ => return None,
    };
    let (month, j) = read_digits(s, j + 1, 1, 2)?;
    if s.get(j) != Some(&month_end) {
        return None;
    }
    let (day, mut j) = read_digits(s, j + 1, 1, 2)?;
    if let Some(end) = day_end {
        if s.get(j) != Some(&end) {
            return None;
        }
        j += 1;
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Not the start of a longer number ("2026-12-011").
    if day_end.is_none() && s.get(j).is_some_and(char::is_ascii_digit) {
        return None;
    }
    Some(j)
}

/// `H:MM` or `HH:MM[:SS]` (24-hour) at `i`; returns the end.
pub(super) fn parse_time(s: &[char], i: usize) -> Option<usize> {
    let (hour, j) = read_digits(s, i, 1, 2)?;
    if s.get(j) != Some(&':') {
        return None;
    }
    let (minute, mut j) = read_digits(s, j + 1, 2, 2)?;
    if hour > 23 || minute > 59 {
        return None;
    }
    if s.get(j) == Some(&':')
        && let Some((second, k)) = read_digits(s, j + 1, 2, 2)
    {
        if second > 59 {
            return None;
        }
        j = k;
    }
    if s.get(j).is_some_and(char::is_ascii_digit) {
        return None;
    }
    Some(j)
}

/// One point in time spanning all of `s`: (has a date, has a time).
pub(super) fn parse_point(s: &[char]) -> Option<(bool, bool)> {
    let mut j = 0;
    let mut has_date = false;
    if let Some(end) = parse_date(s, 0) {
        has_date = true;
        j = end;
        while s.get(j) == Some(&' ') {
            j += 1;
        }
    }
    let mut has_time = false;
    if j < s.len() {
        j = parse_time(s, j)?;
        has_time = true;
    }
    (j == s.len() && (has_date || has_time)).then_some((has_date, has_time))
}

pub(super) fn trim_chars(mut s: &[char]) -> &[char] {
    while let [first, rest @ ..] = s
        && first.is_whitespace()
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && last.is_whitespace()
    {
        s = rest;
    }
    s
}

/// A whole `time`/`date` value: one point, or two joined by `~`. The first point must have a
/// time (`time`) or a date (`date`); the second may have either.
pub(super) fn is_time_value(kind: KeywordType, s: &[char]) -> bool {
    let mut parts = s.split(|&c| c == '~');
    let Some(first) = parts.next() else {
        return false;
    };
    let second = parts.next();
    if parts.next().is_some() {
        return false;
    }
    let Some((date, time)) = parse_point(trim_chars(first)) else {
        return false;
    };
    let first_ok = if kind == KeywordType::Time {
        time
    } else {
        date
    };
    first_ok && second.is_none_or(|p| parse_point(trim_chars(p)).is_some())
}

pub(super) fn fit_time(kind: KeywordType, raw: &str) -> String {
    let normalized: String = collapse_whitespace(&raw.chars().map(halfwidth).collect::<String>());
    let chars: Vec<char> = normalized.chars().collect();
    if is_time_value(kind, &chars) {
        return normalized;
    }
    // Keep the first date and the first time found.
    let mut date: Option<&[char]> = None;
    let mut time: Option<&[char]> = None;
    let mut i = 0;
    while i < chars.len() {
        let starts_number = i == 0 || !chars[i - 1].is_ascii_digit();
        if starts_number
            && date.is_none()
            && let Some(end) = parse_date(&chars, i)
        {
            date = Some(&chars[i..end]);
            i = end;
            continue;
        }
        if starts_number
            && time.is_none()
            && let Some(end) = parse_time(&chars, i)
        {
            time = Some(&chars[i..end]);
            i = end;
            continue;
        }
        i += 1;
    }
    let text = |c: &[char]| c.iter().collect::<String>();
    match (kind, date, time) {
        (KeywordType::Time | KeywordType::Date, Some(d), Some(t)) => {
            format!("{} {}", text(d), text(t))
        }
        (KeywordType::Time, None, Some(t)) => text(t),
        (KeywordType::Date, Some(d), None) => text(d),
        (KeywordType::Time, Some(d), None) => format!("{} 00:00", text(d)),
        _ => String::new(),
    }
}
