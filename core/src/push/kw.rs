//! Keyword types of subscribe templates: the platform's rules live in `fingertip_platform`.

pub use fingertip_platform::keywords::{KeywordType, fit};
