//! Ports: what the services need from the outside world, each with an in-process adapter for
//! the embedded shape and tests, and a Redis adapter for the distributed shape.

pub mod memory_pubsub;
pub mod memory_queue;
pub mod memory_rate_limit;
pub mod memory_throttle;
pub mod pubsub;
pub mod queue;
pub mod rate_limit;
pub mod redis_pubsub;
pub mod redis_queue;
pub mod redis_rate_limit;
pub mod redis_throttle;
pub mod redis_token_store;
pub mod throttle;

pub use pubsub::{DeliveredItems, Event, PubSub, Received, Subscription};
pub use queue::{Delivery, Job, JobQueue};
pub use rate_limit::{Limit, RateLimiter};
pub use throttle::Throttle;
