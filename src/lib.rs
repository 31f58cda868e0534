//! Wiring: turns settings into a running API, workers, or both. The `fingertip` binary and the
//! black-box tests both start the application through here.

pub mod app;
pub mod platform;
pub mod settings;
pub mod shutdown;

pub use app::{App, AppOptions};
