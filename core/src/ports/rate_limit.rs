//! A shared rate limit per platform app: in process when embedded, in Redis when several
//! workers send for the same app.
//!
//! Both adapters are GCRA (a token bucket kept as one "theoretical arrival time"): a limit of
//! `per_sec` sends a second admits a burst of `per_sec / 10` and then `per_sec - burst` a second,
//! so that no sliding one-second window ever holds more than `per_sec` sends.
//!
//! Written here rather than taken from `governor`: the Redis adapter has to be a Lua script
//! anyway (one limit shared by every worker process), and keeping the same dozen lines of GCRA
//! in both adapters makes them admit exactly the same sends, which the tests compare.

use std::time::Duration;

use crate::error::CoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_sec: u32,
}

impl Limit {
    /// (interval between sends, burst tolerance), in microseconds.
    pub fn gcra(self) -> (u64, u64) {
        let per_sec = u64::from(self.per_sec.max(1));
        let burst = (per_sec / 10).max(1);
        let steady = (per_sec - burst).max(1);
        // Rounded up: a shorter interval would let more than `per_sec` through.
        let interval = 1_000_000u64.div_ceil(steady);
        (interval.max(1), interval * burst.saturating_sub(1))
    }
}

#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync + 'static {
    /// Reserves one send under `key`; returns how long to wait before making it (zero when it
    /// may go now). The reservation is made either way, so callers must wait, not retry.
    async fn reserve(&self, key: &str, limit: Limit) -> CoreResult<Duration>;

    fn name(&self) -> &'static str;
}

/// Reserves and waits.
pub async fn acquire(limiter: &dyn RateLimiter, key: &str, limit: Limit) -> CoreResult<()> {
    let wait = limiter.reserve(key, limit).await?;
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    Ok(())
}
