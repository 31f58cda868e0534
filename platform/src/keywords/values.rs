//! Fitting free text to the value keywords: `thing`, numbers, amounts, car plates, names.

use super::AMOUNT_DIGITS;
use super::CAR_MAX;
use super::NAME_ASCII_MAX;
use super::NAME_CJK_MAX;
use super::THING_MAX;
use super::chars::all_digits;
use super::chars::collapse_whitespace;
use super::chars::halfwidth;
use super::chars::is_cjk;
use super::chars::is_name_char;
use super::chars::is_plain;

pub(super) fn fit_thing(raw: &str) -> String {
    let text: String = collapse_whitespace(raw)
        .chars()
        .filter(|&c| is_plain(c))
        .collect();
    let text = collapse_whitespace(&text);
    if text.chars().count() <= THING_MAX {
        return text;
    }
    let head: String = text.chars().take(THING_MAX - 1).collect();
    format!("{}…", head.trim_end())
}

/// The first number in `raw` (`1,234.5` reads as `1234.5`), cut to `max` characters.
/// Empty when `raw` has no digit.
pub(super) fn fit_number(raw: &str, max: usize) -> String {
    let (int, frac) = first_number(raw);
    cut_number(&int, &frac, max)
}

pub(super) fn cut_number(int: &str, frac: &str, max: usize) -> String {
    if int.is_empty() {
        return String::new();
    }
    if int.len() >= max {
        return int[..max].to_owned();
    }
    let room = max - int.len();
    if frac.is_empty() || room < 2 {
        return int.to_owned();
    }
    let frac = &frac[..frac.len().min(room - 1)];
    format!("{int}.{frac}")
}

/// (integer digits, decimal digits) of the first number in `raw`.
pub(super) fn first_number(raw: &str) -> (String, String) {
    let chars: Vec<char> = raw.chars().map(halfwidth).collect();
    let Some(start) = chars.iter().position(char::is_ascii_digit) else {
        return (String::new(), String::new());
    };
    let mut int = String::new();
    let mut frac = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        let next_is_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() {
            int.push(c);
        } else if c == ',' && next_is_digit {
            // thousands separator
        } else if c == '.' && next_is_digit {
            i += 1;
            while let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                frac.push(d);
                i += 1;
            }
            break;
        } else {
            break;
        }
        i += 1;
    }
    (int, frac)
}

pub(super) fn is_amount(value: &str) -> bool {
    let v = value
        .strip_prefix(['¥', '￥', '$', '€', '£'])
        .unwrap_or(value);
    let v = v.strip_suffix('元').unwrap_or(v);
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    all_digits(int) && int.len() <= AMOUNT_DIGITS && all_digits(frac) && frac.len() <= 2
}

pub(super) fn fit_amount(raw: &str) -> String {
    let trimmed = raw.trim();
    if is_amount(trimmed) {
        return trimmed.to_owned();
    }
    let symbol = ['$', '€', '£', '¥', '￥']
        .into_iter()
        .find(|&s| raw.contains(s))
        .map(|s| if s == '￥' { '¥' } else { s });
    let (int, frac) = first_number(raw);
    let int = if int.is_empty() {
        "0".to_owned()
    } else if int.len() > AMOUNT_DIGITS {
        "9".repeat(AMOUNT_DIGITS)
    } else {
        int
    };
    let number = if frac.is_empty() {
        int
    } else {
        format!("{int}.{}", &frac[..frac.len().min(2)])
    };
    match symbol {
        Some(s) => format!("{s}{number}"),
        None => format!("{number}元"),
    }
}

pub(super) fn fit_car(raw: &str) -> String {
    let chars: Vec<char> = raw
        .chars()
        .map(halfwidth)
        .filter(|&c| c.is_ascii_alphanumeric() || is_cjk(c))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let Some((&first, rest)) = chars.split_first() else {
        return String::new();
    };
    let (last, middle) = match rest.split_last() {
        Some((&last, middle)) => (Some(last), middle),
        None => (None, rest),
    };
    let middle: Vec<char> = middle
        .iter()
        .copied()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut out = String::new();
    out.push(first);
    let room = CAR_MAX - 1 - usize::from(last.is_some());
    out.extend(middle.iter().take(room));
    out.extend(last);
    out
}

pub(super) fn fit_name(raw: &str) -> String {
    let kept: String = collapse_whitespace(raw)
        .chars()
        .filter(|&c| is_name_char(c))
        .collect();
    let kept = collapse_whitespace(&kept);
    let max = if kept.is_ascii() {
        NAME_ASCII_MAX
    } else {
        NAME_CJK_MAX
    };
    let cut: String = kept.chars().take(max).collect();
    cut.trim_end().to_owned()
}

// ---- time and date ----------------------------------------------------------------------
