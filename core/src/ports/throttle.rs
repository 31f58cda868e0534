//! Attempt counting for abuse limits (logins, invite codes): how many attempts a key (a
//! username, a client address, a WeChat account) made in the current fixed window.
//!
//! Windows are computed from the time the caller passes in (the injected clock), not from the
//! adapter's own clock, so tests are exact and every process of the distributed shape agrees
//! on which window an attempt falls in. A fixed window lets at most twice the limit through
//! across a boundary, which is fine for slowing guessers down by orders of magnitude.

use chrono::{DateTime, Utc};

use crate::error::{CoreError, CoreResult};

/// At most `max` attempts per key in each window of `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub max: u64,
    pub window_secs: u64,
}

#[async_trait::async_trait]
pub trait Throttle: Send + Sync + 'static {
    /// Counts one attempt under `key` in the window of `window_secs` holding `now`; returns
    /// the number of attempts in that window so far, this one included.
    async fn hit(&self, key: &str, window_secs: u64, now: DateTime<Utc>) -> CoreResult<u64>;

    fn name(&self) -> &'static str;
}

/// The window `now` falls in, and when it ends (Unix seconds).
pub fn window(window_secs: u64, now: DateTime<Utc>) -> (u64, i64) {
    let w = window_secs.max(1);
    let t = u64::try_from(now.timestamp()).unwrap_or(0);
    let index = t / w;
    (index, i64::try_from((index + 1) * w).unwrap_or(i64::MAX))
}

/// Counts an attempt; over the rule it is a 429 whose `Retry-After` is the end of the window.
pub async fn check(
    throttle: &dyn Throttle,
    key: &str,
    rule: Rule,
    now: DateTime<Utc>,
    message: &str,
) -> CoreResult<()> {
    let n = throttle.hit(key, rule.window_secs, now).await?;
    if n > rule.max {
        let (_, ends) = window(rule.window_secs, now);
        return Err(CoreError::RateLimited {
            message: message.to_string(),
            retry_after_secs: u64::try_from(ends - now.timestamp()).unwrap_or(0).max(1),
        });
    }
    Ok(())
}
