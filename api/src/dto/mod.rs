//! Request and response bodies. Rows never leave the server as they are: each response has its
//! own type here, ids are rendered as strings, and timestamps as RFC 3339 in UTC.

pub mod auth;
pub mod broadcasts;
pub mod care;
pub mod common;
pub mod compliance;
pub mod disclosures;
pub mod enums;
pub mod feedback;
pub mod inbox;
pub mod live;
pub mod meetings;
pub mod org;
pub mod posts;
pub mod push;
pub mod study;
pub mod surveys;
pub mod timestamp;

pub use common::*;
