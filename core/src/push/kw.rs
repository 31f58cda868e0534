//! Keyword types of subscribe templates: the platform's rules live in `fingertip_wechat`.

pub use fingertip_wechat::keywords::{KeywordType, fit};
