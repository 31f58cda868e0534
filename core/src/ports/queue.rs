//! The job queue port. A job only wakes a worker early: the database stays the truth, and a
//! sweeper finds any pending work whose job was lost. So a queue may drop jobs (Redis flushed,
//! process killed) without losing a broadcast.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::CoreResult;

/// A named, idempotent, serialisable job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Fan a broadcast out into its recipients' inboxes.
    Fanout { broadcast_id: i64 },
}

/// A job handed to one consumer; acknowledge it once handled.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub job: Job,
}

#[async_trait::async_trait]
pub trait JobQueue: Send + Sync + 'static {
    async fn push(&self, job: Job) -> CoreResult<()>;
    /// Waits at most `wait` for jobs and returns up to `max` of them (possibly none).
    async fn pull(&self, max: usize, wait: Duration) -> CoreResult<Vec<Delivery>>;
    async fn ack(&self, delivery: &Delivery) -> CoreResult<()>;
    /// Whether the queue's backing service answers (for readiness).
    async fn ping(&self) -> CoreResult<()>;
    fn name(&self) -> &'static str;
}
