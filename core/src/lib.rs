//! Fingertip's domain: entities, rules and services, and the ports they use.
//! Nothing here knows HTTP.

pub mod access;
pub mod audience;
pub mod audit;
pub mod auth;
pub mod broadcasts;
pub mod care;
pub mod clock;
pub mod compliance;
pub mod console;
pub mod context;
pub mod db;
pub mod disclosures;
pub mod entities;
pub mod error;
pub mod feedback;
pub mod inbox;
pub mod live;
pub mod meetings;
pub mod metrics;
pub mod org;
pub mod paging;
pub mod ports;
pub mod posts;
pub mod push;
pub mod settings;
pub mod study;
pub mod surveys;
pub mod trace;
pub mod vocab;

pub use context::Core;
pub use error::{CoreError, CoreResult, FieldError};
