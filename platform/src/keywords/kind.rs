//! The keyword types of subscribe templates and their length limits (WECHAT.md §3.1).

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

    /// What [`fit`](super::fit) returns when nothing usable is left of the input.
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
