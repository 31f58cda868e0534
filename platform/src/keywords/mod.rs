//! Subscribe-message keyword values: the platform's type rules (WECHAT.md §3.1).
//!
//! A template's keyword names are `<type><n>` (`thing1`, `character_string19`, `phrase16`);
//! the prefix decides what the value may contain. A value that breaks the rule makes the whole
//! send fail with 47003, so the push worker passes every value through [`fit`] first, and the
//! mock checks every value with [`validate`].
//!
//! Characters are counted as Unicode scalar values (`chars().count()`); how WeChat counts is
//! not documented. Where the platform's rule is unclear these functions are stricter than it
//! probably is: emoji and other characters outside the Basic Multilingual Plane (except CJK
//! ideographs) are dropped from free text, `number` takes no sign, `character_string` no
//! spaces, and `time`/`date` need a four-digit year when they carry a date.
//!
//! ```
//! use fingertip_platform::keywords::{KeywordType, fit, validate};
//! let kind = KeywordType::of("thing1").unwrap();
//! let v = fit(kind, "关于认真学习贯彻党的二十届三中全会精神的专题党课通知");
//! assert_eq!(v, "关于认真学习贯彻党的二十届三中全会精神…"); // 19 + …
//! assert!(validate(kind, &v).is_ok());
//! assert_eq!(fit(KeywordType::Phrase, "已发布 (new)"), "已发布");
//! ```

mod chars;
mod kind;
mod time;
mod values;

pub use kind::{
    AMOUNT_DIGITS, CAR_MAX, KeywordType, NAME_ASCII_MAX, NAME_CJK_MAX, PHONE_MAX, PHRASE_MAX,
    STRING_MAX, SYMBOL_MAX, THING_MAX,
};

use chars::{all_digits, is_cjk, is_name_char, is_plain, keep};
use time::{fit_time, is_time_value};
use values::{fit_amount, fit_car, fit_name, fit_number, fit_thing, is_amount};

/// Turns `raw` into a value the platform accepts for `kind`: drops characters the type does
/// not allow, cuts to the length limit (`thing` ends with `…` when cut), and falls back to
/// [`KeywordType::placeholder`] when nothing is left. Valid values come back unchanged apart
/// from trimmed outer whitespace.
///
/// `time`/`date` expect an already formatted value (`2026年12月01日 09:00`, `2026-12-01`,
/// `09:00~11:30`); otherwise the first date and time found in `raw` are kept (so
/// `2026年12月01日 周二 09:00` becomes `2026年12月01日 09:00`), and the placeholder is used
/// when none is found. `enum` values are only trimmed: they must come from the template.
pub fn fit(kind: KeywordType, raw: &str) -> String {
    let out = match kind {
        KeywordType::Thing => fit_thing(raw),
        KeywordType::Number => fit_number(raw, STRING_MAX),
        KeywordType::Letter => keep(raw, |c| c.is_ascii_alphabetic(), STRING_MAX),
        KeywordType::Symbol => keep(raw, |c| c.is_ascii_punctuation(), SYMBOL_MAX),
        KeywordType::CharacterString => keep(raw, |c| c.is_ascii_graphic(), STRING_MAX),
        KeywordType::PhoneNumber => keep(
            raw,
            |c| c.is_ascii_digit() || c.is_ascii_punctuation(),
            PHONE_MAX,
        ),
        KeywordType::Time | KeywordType::Date => fit_time(kind, raw),
        KeywordType::Amount => fit_amount(raw),
        KeywordType::CarNumber => fit_car(raw),
        KeywordType::Name => fit_name(raw),
        KeywordType::Phrase => raw
            .chars()
            .filter(|&c| is_cjk(c))
            .take(PHRASE_MAX)
            .collect(),
        KeywordType::Enum => return raw.trim().to_owned(),
    };
    if out.is_empty() {
        kind.placeholder().to_owned()
    } else {
        out
    }
}

/// Checks `value` against the rule of `kind`; `Err` says why not. `Enum` values are only
/// checked for being non-empty plain text (the allowed list belongs to the template).
pub fn validate(kind: KeywordType, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("is empty".into());
    }
    let n = value.chars().count();
    let max = |limit: usize| {
        if n > limit {
            Err(format!("is longer than {limit} characters"))
        } else {
            Ok(())
        }
    };
    let only = |ok: fn(char) -> bool, what: &str| {
        if value.chars().all(ok) {
            Ok(())
        } else {
            Err(format!("may contain only {what}"))
        }
    };
    match kind {
        KeywordType::Thing => {
            max(THING_MAX)?;
            only(is_plain, "text without control characters or emoji")
        }
        KeywordType::Enum => only(is_plain, "text without control characters or emoji"),
        KeywordType::Number => {
            max(STRING_MAX)?;
            let (int, frac) = value.split_once('.').unwrap_or((value, "1"));
            if all_digits(int) && all_digits(frac) {
                Ok(())
            } else {
                Err("must be digits with an optional decimal part".into())
            }
        }
        KeywordType::Letter => {
            max(STRING_MAX)?;
            only(|c| c.is_ascii_alphabetic(), "ASCII letters")
        }
        KeywordType::Symbol => {
            max(SYMBOL_MAX)?;
            only(|c| c.is_ascii_punctuation(), "ASCII symbols")
        }
        KeywordType::CharacterString => {
            max(STRING_MAX)?;
            only(
                |c| c.is_ascii_graphic(),
                "ASCII digits, letters and symbols",
            )
        }
        KeywordType::PhoneNumber => {
            max(PHONE_MAX)?;
            only(
                |c| c.is_ascii_digit() || c.is_ascii_punctuation(),
                "digits and symbols",
            )
        }
        KeywordType::Time | KeywordType::Date => {
            let chars: Vec<char> = value.chars().collect();
            if is_time_value(kind, &chars) {
                Ok(())
            } else if kind == KeywordType::Time {
                Err("must be a 24-hour time (HH:MM), optionally after a date, or a range".into())
            } else {
                Err("must be a date (YYYY年MM月DD日 or YYYY-MM-DD), optionally with a time, or a range".into())
            }
        }
        KeywordType::Amount => {
            if is_amount(value) {
                Ok(())
            } else {
                Err("must be an optional currency symbol, up to 10 digits, up to 2 decimals and an optional 元".into())
            }
        }
        KeywordType::CarNumber => {
            max(CAR_MAX)?;
            let last = n - 1;
            let ok = value
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_alphanumeric() || ((i == 0 || i == last) && is_cjk(c)));
            if ok {
                Ok(())
            } else {
                Err("must be letters and digits, with CJK only first or last".into())
            }
        }
        KeywordType::Name => {
            if value.is_ascii() {
                max(NAME_ASCII_MAX)?;
            } else {
                max(NAME_CJK_MAX)?;
            }
            only(is_name_char, "letters, CJK characters and symbols")
        }
        KeywordType::Phrase => {
            max(PHRASE_MAX)?;
            only(is_cjk, "CJK characters")
        }
    }
}

#[cfg(test)]
mod tests;
