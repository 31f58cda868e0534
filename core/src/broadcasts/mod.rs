//! Broadcasts: a post sent to an audience over channels, now or at a time.

pub mod fanout;
pub mod ladder;
pub mod schedule;
pub mod service;
pub mod stats;

pub use service::{BroadcastInput, BroadcastView, Channel, Channels, Status};
pub use stats::{CURVE_STEPS, CurvePoint, RecipientState, RecipientView, Stats};
