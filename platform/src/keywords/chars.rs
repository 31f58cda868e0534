//! Character classes and the small string tools the keyword rules are made of.

/// CJK unified ideographs (basic, extension A, compatibility, extensions B and later).
pub(super) fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Text the free-text types accept: no control or invisible format characters, no emoji or
/// other characters outside the BMP (CJK ideographs excepted), no private use.
pub(super) fn is_plain(c: char) -> bool {
    let u = c as u32;
    !c.is_control()
        && (u <= 0xFFFF || is_cjk(c))
        && !matches!(u, 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0x20E3 | 0xFE00..=0xFE0F | 0xFEFF | 0xE000..=0xF8FF)
}

pub(super) fn is_name_char(c: char) -> bool {
    is_plain(c)
        && !c.is_numeric()
        && (c.is_alphabetic() || c.is_ascii_punctuation() || c == ' ' || c == '·' || c == '・')
}

pub(super) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Full-width ASCII (`ＡＢＣ１２３：～`) to ASCII, the ideographic space to a space.
pub(super) fn halfwidth(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    }
}

/// Half-width characters of `raw` that pass `ok`, at most `max` of them.
pub(super) fn keep(raw: &str, ok: impl Fn(char) -> bool, max: usize) -> String {
    raw.chars()
        .map(halfwidth)
        .filter(|&c| ok(c))
        .take(max)
        .collect()
}

/// Whitespace runs (newlines and tabs included) become one space; outer whitespace goes.
pub(super) fn collapse_whitespace(raw: &str) -> String {
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
