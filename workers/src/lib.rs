//! Background workers: tokio loops over core services. Each has a public `run_once` that does
//! one pass and returns, so tests drive it step by step with no sleeping.

pub mod fanout;
pub mod outage;
pub mod push;

pub use fanout::FanoutWorker;
pub use push::PushWorker;
