//! Keyword types of subscribe templates: the platform's rules live in `fingertip_wechat`.
//! TEMPORARY stand-in until the wechat crate's `keywords` module lands; see git history.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordType {
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
}

impl KeywordType {
    pub fn of(name: &str) -> Option<Self> {
        let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
        if prefix.len() == name.len() {
            return None;
        }
        Some(match prefix {
            "thing" => Self::Thing,
            "number" => Self::Number,
            "letter" => Self::Letter,
            "symbol" => Self::Symbol,
            "character_string" => Self::CharacterString,
            "time" => Self::Time,
            "date" => Self::Date,
            "amount" => Self::Amount,
            "phone_number" => Self::PhoneNumber,
            "car_number" => Self::CarNumber,
            "name" => Self::Name,
            "phrase" => Self::Phrase,
            "enum" | "enum_string" => Self::Enum,
            _ => return None,
        })
    }
}

pub fn fit(kind: KeywordType, raw: &str) -> String {
    match kind {
        KeywordType::Thing => raw.chars().take(20).collect(),
        _ => raw.to_string(),
    }
}
