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
//! use fingertip_wechat::keywords::{KeywordType, fit, validate};
//! let kind = KeywordType::of("thing1").unwrap();
//! let v = fit(kind, "关于认真学习贯彻党的二十届三中全会精神的专题党课通知");
//! assert_eq!(v, "关于认真学习贯彻党的二十届三中全会精神…"); // 19 + …
//! assert!(validate(kind, &v).is_ok());
//! assert_eq!(fit(KeywordType::Phrase, "已发布 (new)"), "已发布");
//! ```

/// `thing`: any text, at most this many characters.
pub const THING_MAX: usize = 20;
/// `number`, `letter`, `character_string`: at most this many characters.
pub const STRING_MAX: usize = 32;
/// `symbol`: at most this many characters.
pub const SYMBOL_MAX: usize = 5;
/// `phone_number`: at most this many characters.
pub const PHONE_MAX: usize = 17;
/// `car_number`: at most this many characters.
pub const CAR_MAX: usize = 8;
/// `name` with any non-ASCII character: at most this many characters.
pub const NAME_CJK_MAX: usize = 10;
/// `name` in ASCII letters and symbols: at most this many characters.
pub const NAME_ASCII_MAX: usize = 20;
/// `phrase`: at most this many CJK characters.
pub const PHRASE_MAX: usize = 5;
/// `amount`: at most this many digits before the decimal point.
pub const AMOUNT_DIGITS: usize = 10;

/// The value rule of a keyword, from its name's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeywordType {
    /// `thing`: any mix of CJK, digits, letters, symbols; ≤ 20.
    Thing,
    /// `number`: digits, optionally with decimals; ≤ 32.
    Number,
    /// `letter`: ASCII letters only; ≤ 32.
    Letter,
    /// `symbol`: ASCII symbols only; ≤ 5.
    Symbol,
    /// `character_string`: digits, letters, symbols, no CJK; ≤ 32.
    CharacterString,
    /// `time`: 24-hour time, optionally after a date; a range joins two with `~`.
    Time,
    /// `date`: a date, optionally with a 24-hour time; a range joins two with `~`.
    Date,
    /// `amount`: an optional currency symbol, ≤ 10 digits, ≤ 2 decimals, optional `元`.
    Amount,
    /// `phone_number`: digits and symbols; ≤ 17.
    PhoneNumber,
    /// `car_number`: a plate; first and last character may be CJK, the rest letters/digits; ≤ 8.
    CarNumber,
    /// `name`: ≤ 10 characters, or ≤ 20 when all ASCII letters/symbols; no digits.
    Name,
    /// `phrase`: CJK characters only; ≤ 5.
    Phrase,
    /// `enum` / `enum_string`: one of the template's listed values (not checkable here).
    Enum,
}

impl KeywordType {
    /// The rule for a keyword name such as `thing1` or `character_string19`: the name without
    /// its trailing digits must be a known prefix. `None` for anything else.
    pub fn of(name: &str) -> Option<KeywordType> {
        let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
        Some(match prefix {
            "thing" => KeywordType::Thing,
            "number" => KeywordType::Number,
            "letter" => KeywordType::Letter,
            "symbol" => KeywordType::Symbol,
            "character_string" => KeywordType::CharacterString,
            "time" => KeywordType::Time,
            "date" => KeywordType::Date,
            "amount" => KeywordType::Amount,
            "phone_number" => KeywordType::PhoneNumber,
            "car_number" => KeywordType::CarNumber,
            "name" => KeywordType::Name,
            "phrase" => KeywordType::Phrase,
            "enum" | "enum_string" => KeywordType::Enum,
            _ => return None,
        })
    }

    /// What [`fit`] returns when nothing usable is left of the input.
    /// `Enum` has none: an empty input stays empty.
    pub fn placeholder(self) -> &'static str {
        match self {
            KeywordType::Thing => "无",
            KeywordType::Number => "0",
            KeywordType::Letter => "NA",
            KeywordType::Symbol | KeywordType::CharacterString | KeywordType::PhoneNumber => "-",
            KeywordType::Time => "00:00",
            KeywordType::Date => "1970年01月01日",
            KeywordType::Amount => "0元",
            KeywordType::CarNumber => "无",
            KeywordType::Name => "成员",
            KeywordType::Phrase => "通知",
            KeywordType::Enum => "",
        }
    }
}

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

/// CJK unified ideographs (basic, extension A, compatibility, extensions B and later).
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Text the free-text types accept: no control or invisible format characters, no emoji or
/// other characters outside the BMP (CJK ideographs excepted), no private use.
fn is_plain(c: char) -> bool {
    let u = c as u32;
    !c.is_control()
        && (u <= 0xFFFF || is_cjk(c))
        && !matches!(u, 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0x20E3 | 0xFE00..=0xFE0F | 0xFEFF | 0xE000..=0xF8FF)
}

fn is_name_char(c: char) -> bool {
    is_plain(c)
        && !c.is_numeric()
        && (c.is_alphabetic() || c.is_ascii_punctuation() || c == ' ' || c == '·' || c == '・')
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Full-width ASCII (`ＡＢＣ１２３：～`) to ASCII, the ideographic space to a space.
fn halfwidth(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Half-width characters of `raw` that pass `ok`, at most `max` of them.
fn keep(raw: &str, ok: impl Fn(char) -> bool, max: usize) -> String {
    raw.chars()
        .map(halfwidth)
        .filter(|&c| ok(c))
        .take(max)
        .collect()
}

/// Whitespace runs (newlines and tabs included) become one space; outer whitespace goes.
fn collapse_whitespace(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split(|c: char| c.is_whitespace() || c == '\u{3000}') {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn fit_thing(raw: &str) -> String {
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
fn fit_number(raw: &str, max: usize) -> String {
    let (int, frac) = first_number(raw);
    cut_number(&int, &frac, max)
}

fn cut_number(int: &str, frac: &str, max: usize) -> String {
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
fn first_number(raw: &str) -> (String, String) {
    let chars: Vec<char> = raw.chars().map(halfwidth).collect();
    let Some(start) = chars.iter().position(|c| c.is_ascii_digit()) else {
        return (String::new(), String::new());
    };
    let mut int = String::new();
    let mut frac = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        let next_is_digit = chars.get(i + 1).is_some_and(|c| c.is_ascii_digit());
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

fn is_amount(value: &str) -> bool {
    let v = value
        .strip_prefix(['¥', '￥', '$', '€', '£'])
        .unwrap_or(value);
    let v = v.strip_suffix('元').unwrap_or(v);
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    all_digits(int) && int.len() <= AMOUNT_DIGITS && all_digits(frac) && frac.len() <= 2
}

fn fit_amount(raw: &str) -> String {
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

fn fit_car(raw: &str) -> String {
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

fn fit_name(raw: &str) -> String {
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

/// Reads `min..=max` ASCII digits at `i`; (value, end).
fn read_digits(s: &[char], i: usize, min: usize, max: usize) -> Option<(u32, usize)> {
    let mut end = i;
    let mut value: u32 = 0;
    while end < s.len() && end - i < max && s[end].is_ascii_digit() {
        value = value * 10 + s[end].to_digit(10)?;
        end += 1;
    }
    (end - i >= min).then_some((value, end))
}

fn days_in_month(year: u32, month: u32) -> u32 {
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
fn parse_date(s: &[char], i: usize) -> Option<usize> {
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
fn parse_time(s: &[char], i: usize) -> Option<usize> {
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
fn parse_point(s: &[char]) -> Option<(bool, bool)> {
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

fn trim_chars(mut s: &[char]) -> &[char] {
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
fn is_time_value(kind: KeywordType, s: &[char]) -> bool {
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

fn fit_time(kind: KeywordType, raw: &str) -> String {
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
        (KeywordType::Time, Some(d), Some(t)) | (KeywordType::Date, Some(d), Some(t)) => {
            format!("{} {}", text(d), text(t))
        }
        (KeywordType::Time, None, Some(t)) => text(t),
        (KeywordType::Date, Some(d), None) => text(d),
        (KeywordType::Time, Some(d), None) => format!("{} 00:00", text(d)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeywordType::*;

    const ALL: [KeywordType; 13] = [
        Thing,
        Number,
        Letter,
        Symbol,
        CharacterString,
        Time,
        Date,
        Amount,
        PhoneNumber,
        CarNumber,
        Name,
        Phrase,
        Enum,
    ];

    #[test]
    fn type_from_keyword_name() {
        assert_eq!(KeywordType::of("thing1"), Some(Thing));
        assert_eq!(KeywordType::of("thing"), Some(Thing));
        assert_eq!(KeywordType::of("character_string19"), Some(CharacterString));
        assert_eq!(KeywordType::of("phrase16"), Some(Phrase));
        assert_eq!(KeywordType::of("time2"), Some(Time));
        assert_eq!(KeywordType::of("date3"), Some(Date));
        assert_eq!(KeywordType::of("number4"), Some(Number));
        assert_eq!(KeywordType::of("letter5"), Some(Letter));
        assert_eq!(KeywordType::of("symbol6"), Some(Symbol));
        assert_eq!(KeywordType::of("amount7"), Some(Amount));
        assert_eq!(KeywordType::of("phone_number8"), Some(PhoneNumber));
        assert_eq!(KeywordType::of("car_number9"), Some(CarNumber));
        assert_eq!(KeywordType::of("name10"), Some(Name));
        assert_eq!(KeywordType::of("enum11"), Some(Enum));
        assert_eq!(KeywordType::of("enum_string12"), Some(Enum));
        assert_eq!(KeywordType::of("short_thing1"), None);
        assert_eq!(KeywordType::of("thing1x"), None);
        assert_eq!(KeywordType::of("Thing1"), None);
        assert_eq!(KeywordType::of(""), None);
        assert_eq!(KeywordType::of("12"), None);
    }

    #[test]
    fn thing() {
        assert_eq!(fit(Thing, "  支部学习  "), "支部学习");
        assert_eq!(fit(Thing, "第一行\n第二行\t完"), "第一行 第二行 完");
        let title = "学习贯彻习近平新时代中国特色社会主义思想主题教育专题党课";
        let v = fit(Thing, title);
        assert_eq!(v.chars().count(), 20);
        assert!(v.ends_with('…'));
        assert!(title.starts_with(v.trim_end_matches('…')));
        assert_eq!(
            fit(Thing, "恰好二十个字恰好二十个字恰好二十个字恰好"),
            "恰好二十个字恰好二十个字恰好二十个字恰好"
        );
        assert_eq!(fit(Thing, "党课🎉通知"), "党课通知");
        assert_eq!(fit(Thing, "🎉"), "无");
        assert_eq!(fit(Thing, ""), "无");
        assert!(validate(Thing, "3月党课（第2期）: 参会").is_ok());
        assert!(validate(Thing, "党课🎉").is_err());
        assert!(validate(Thing, "").is_err());
        assert!(validate(Thing, "一二三四五六七八九十一二三四五六七八九十一").is_err());
    }

    #[test]
    fn phrase() {
        assert_eq!(fit(Phrase, "已发布"), "已发布");
        assert_eq!(fit(Phrase, "已发布 (new)"), "已发布");
        assert_eq!(fit(Phrase, "请及时完成学习任务"), "请及时完成");
        assert_eq!(fit(Phrase, "OK!"), "通知");
        assert_eq!(fit(Phrase, ""), "通知");
        assert!(validate(Phrase, "待学习").is_ok());
        assert!(validate(Phrase, "待学习1").is_err());
        assert!(validate(Phrase, "待 学习").is_err());
        assert!(validate(Phrase, "一二三四五六").is_err());
    }

    #[test]
    fn character_string() {
        assert_eq!(fit(CharacterString, "DK-2026-001"), "DK-2026-001");
        assert_eq!(fit(CharacterString, "第3期 No.12"), "3No.12");
        assert_eq!(fit(CharacterString, "ＡＢＣ１２３"), "ABC123");
        assert_eq!(fit(CharacterString, "党课"), "-");
        assert_eq!(fit(CharacterString, &"x".repeat(40)).len(), 32);
        assert!(validate(CharacterString, "ABC-123_x").is_ok());
        assert!(validate(CharacterString, "编号123").is_err());
        assert!(validate(CharacterString, "a b").is_err());
    }

    #[test]
    fn number() {
        assert_eq!(fit(Number, "12"), "12");
        assert_eq!(fit(Number, "共 1,234.50 分"), "1234.50");
        assert_eq!(fit(Number, "第３期"), "3");
        assert_eq!(fit(Number, "无"), "0");
        assert_eq!(fit(Number, &"9".repeat(40)), "9".repeat(32));
        let v = fit(Number, &format!("{}.{}", "1".repeat(30), "2".repeat(10)));
        assert_eq!(v, format!("{}.2", "1".repeat(30)));
        assert!(validate(Number, "3.14").is_ok());
        assert!(validate(Number, "-3").is_err());
        assert!(validate(Number, "3.").is_err());
        assert!(validate(Number, "三").is_err());
    }

    #[test]
    fn letter_and_symbol() {
        assert_eq!(fit(Letter, "ABC党课def1"), "ABCdef");
        assert_eq!(fit(Letter, "党课"), "NA");
        assert!(validate(Letter, "abc").is_ok());
        assert!(validate(Letter, "ab1").is_err());
        assert_eq!(fit(Symbol, "党课!?-+*/"), "!?-+*");
        assert_eq!(fit(Symbol, "党课"), "-");
        assert!(validate(Symbol, "#").is_ok());
        assert!(validate(Symbol, "#a").is_err());
        assert!(validate(Symbol, "!!!!!!").is_err());
    }

    #[test]
    fn time_and_date() {
        for v in [
            "2026年12月01日 09:00",
            "2026年12月1日 9:00",
            "09:00",
            "2026-12-01 09:00:30",
            "2026/12/01 09:00",
            "09:00~11:30",
            "2026年12月01日 09:00 ~ 2026年12月01日 11:30",
        ] {
            assert!(validate(Time, v).is_ok(), "{v}");
            assert_eq!(fit(Time, v), v, "{v}");
        }
        for v in [
            "2026年12月01日",
            "2026-12-01",
            "2026年12月01日 09:00",
            "2026年12月01日~2026年12月03日",
            "2026年12月01日 09:00~11:30",
        ] {
            assert!(validate(Date, v).is_ok(), "{v}");
            assert_eq!(fit(Date, v), v, "{v}");
        }
        assert!(validate(Time, "2026年12月01日").is_err());
        assert!(validate(Date, "09:00").is_err());
        assert!(validate(Time, "25:00").is_err());
        assert!(validate(Time, "9点").is_err());
        assert!(validate(Date, "2026年2月30日").is_err());
        assert!(validate(Date, "2028年2月29日").is_ok());
        assert!(validate(Date, "12月1日").is_err());
        assert!(validate(Time, "09:00~10:00~11:00").is_err());
        assert_eq!(
            fit(Time, "2026年12月01日 周二 09:00"),
            "2026年12月01日 09:00"
        );
        assert_eq!(fit(Time, "  ０９：００ "), "09:00");
        assert_eq!(fit(Time, "上午9:30开始"), "9:30");
        assert_eq!(fit(Date, "时间：2026-12-01（周二）"), "2026-12-01");
        assert_eq!(fit(Time, "2026年12月01日全天"), "2026年12月01日 00:00");
        assert_eq!(fit(Time, "明天上午"), "00:00");
        assert_eq!(fit(Date, "明天"), "1970年01月01日");
    }

    #[test]
    fn amount() {
        for v in ["¥100", "100元", "￥12.50", "$3.5", "0.01元", "9999999999"] {
            assert!(validate(Amount, v).is_ok(), "{v}");
            assert_eq!(fit(Amount, v), v);
        }
        assert!(validate(Amount, "12345678901").is_err());
        assert!(validate(Amount, "1.234").is_err());
        assert!(validate(Amount, "一百元").is_err());
        assert_eq!(fit(Amount, "党费 1,200.456 元"), "1200.45元");
        assert_eq!(fit(Amount, "￥ 30"), "¥30");
        assert_eq!(fit(Amount, "免费"), "0元");
    }

    #[test]
    fn phone_number() {
        assert_eq!(fit(PhoneNumber, "+86-0766-66888866"), "+86-0766-66888866");
        assert_eq!(fit(PhoneNumber, "电话：138 0013 8000"), ":13800138000");
        assert_eq!(fit(PhoneNumber, "无"), "-");
        assert!(validate(PhoneNumber, "+86-0766-66888866").is_ok());
        assert!(validate(PhoneNumber, "+86-0766-668888661").is_err());
        assert!(validate(PhoneNumber, "138 0013").is_err());
    }

    #[test]
    fn car_number() {
        assert_eq!(fit(CarNumber, "粤A8P8F8"), "粤A8P8F8");
        assert_eq!(fit(CarNumber, "粤 a·12345 警"), "粤A12345警");
        assert_eq!(fit(CarNumber, "粤A中123456789"), "粤A123459");
        assert_eq!(fit(CarNumber, "---"), "无");
        assert!(validate(CarNumber, "京A12345").is_ok());
        assert!(validate(CarNumber, "京A中2345").is_err());
        assert!(validate(CarNumber, "京A1234567").is_err());
    }

    #[test]
    fn name() {
        assert_eq!(fit(Name, "张三"), "张三");
        assert_eq!(fit(Name, "欧阳·娜娜"), "欧阳·娜娜");
        assert_eq!(fit(Name, "Zhang San"), "Zhang San");
        assert_eq!(
            fit(Name, "一二三四五六七八九十一二"),
            "一二三四五六七八九十"
        );
        assert_eq!(
            fit(Name, "Alexander Maximilian Smith"),
            "Alexander Maximilian"
        );
        assert_eq!(fit(Name, "李4"), "李");
        assert_eq!(fit(Name, "1234"), "成员");
        assert!(validate(Name, "张三").is_ok());
        assert!(validate(Name, "Zhang San-Li").is_ok());
        assert!(validate(Name, "张三Zhang San").is_err());
        assert!(validate(Name, "张3").is_err());
    }

    #[test]
    fn enum_is_only_trimmed() {
        assert_eq!(fit(Enum, " 已完成 "), "已完成");
        assert_eq!(fit(Enum, ""), "");
        assert!(validate(Enum, "已完成").is_ok());
        assert!(validate(Enum, " ").is_err());
    }

    /// Deterministic pseudo-random strings from a pool of tricky characters.
    fn tricky_inputs() -> Vec<String> {
        let mut inputs: Vec<String> = [
            "",
            " ",
            "\n\t",
            "🎉🎉🎉",
            "👨‍👩‍👧‍👦",
            "é",
            "\u{200B}",
            "\u{FEFF}党课",
            "~",
            "~~",
            "09:00~",
            "~09:00",
            "2026年",
            "2026-13-01",
            "99:99",
            "1.2.3",
            "..5",
            "¥",
            "元",
            "¥¥100元元",
            "-1",
            ",,,",
            "第1期 No.12 党课《学习》😀",
            "ＡＢＣ　１２３",
            "𠮷野家",
            "\u{0000}\u{0007}",
            "a\u{0301}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push("学".repeat(200));
        inputs.push("学习贯彻党的二十大精神 Party lesson 2026 🎉 ".repeat(8));
        inputs.push("9".repeat(200));
        inputs.push("a".repeat(200));
        inputs.push("2026年12月01日 09:00".repeat(3));
        let pool: Vec<char> =
            "学习党课 aZ09.,:~-¥元年月日\n\t🎉😀é\u{200B}\u{FE0F}！？１：（）·𠮷/+#"
                .chars()
                .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400 {
            let mut s = String::new();
            for _ in 0..(len % 60) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push(pool[(seed % pool.len() as u64) as usize]);
            }
            inputs.push(s);
        }
        inputs
    }

    #[test]
    fn fit_always_validates() {
        for kind in ALL {
            if kind == Enum {
                continue;
            }
            for raw in tricky_inputs() {
                let v = fit(kind, &raw);
                assert!(
                    validate(kind, &v).is_ok(),
                    "{kind:?}: fit({raw:?}) = {v:?}: {:?}",
                    validate(kind, &v)
                );
                // Fitting is idempotent.
                assert_eq!(fit(kind, &v), v, "{kind:?} {raw:?}");
            }
        }
    }
}
