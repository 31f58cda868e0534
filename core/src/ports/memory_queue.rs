//! The in-process queue of the embedded shape.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use super::queue::{Delivery, Job, JobQueue};
use crate::error::CoreResult;

#[derive(Default)]
pub struct MemoryQueue {
    jobs: Mutex<VecDeque<Job>>,
    notify: Notify,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn take(&self, max: usize) -> Vec<Delivery> {
        let mut q = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = max.min(q.len());
        q.drain(..n)
            .map(|job| Delivery {
                id: String::new(),
                job,
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl JobQueue for MemoryQueue {
    async fn push(&self, job: Job) -> CoreResult<()> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(job);
        self.notify.notify_one();
        Ok(())
    }

    async fn pull(&self, max: usize, wait: Duration) -> CoreResult<Vec<Delivery>> {
        let got = self.take(max);
        if !got.is_empty() || wait.is_zero() {
            return Ok(got);
        }
        let _ = tokio::time::timeout(wait, self.notify.notified()).await;
        Ok(self.take(max))
    }

    async fn ack(&self, _delivery: &Delivery) -> CoreResult<()> {
        Ok(())
    }

    async fn ping(&self) -> CoreResult<()> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
