//! Ports: what the services need from the outside world, each with an in-process adapter for
//! the embedded shape and tests, and a Redis adapter for the distributed shape.

pub mod memory_queue;
pub mod queue;
pub mod redis_queue;

pub use queue::{Delivery, Job, JobQueue};
