//! Identity: passwords, tokens, sessions, WeChat login and binding.

pub mod cache;
pub mod changes;
pub mod password;
pub mod roles;
pub mod secrets;
pub mod service;
pub mod tokens;

pub use roles::{Actor, Role, Scope};
pub use service::{LoginOutcome, TokenPair};
