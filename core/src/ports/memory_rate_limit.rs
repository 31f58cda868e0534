//! GCRA in process memory (see [`super::rate_limit`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::rate_limit::{Limit, RateLimiter};
use crate::error::CoreResult;

pub struct MemoryRateLimiter {
    start: Instant,
    /// key → theoretical arrival time, microseconds since `start`.
    tat: Mutex<HashMap<String, u64>>,
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            tat: Mutex::new(HashMap::new()),
        }
    }
}

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }
}

/// One GCRA step: given the stored TAT and now, returns (new TAT, wait), all in microseconds.
pub fn gcra_step(tat: u64, now: u64, limit: Limit) -> (u64, u64) {
    let (interval, tolerance) = limit.gcra();
    let tat = tat.max(now);
    let allowed_at = tat.saturating_sub(tolerance);
    let wait = allowed_at.saturating_sub(now);
    (tat + interval, wait)
}

#[async_trait::async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn reserve(&self, key: &str, limit: Limit) -> CoreResult<Duration> {
        let now = u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut map = self
            .tat
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tat = map.get(key).copied().unwrap_or(0);
        let (next, wait) = gcra_step(tat, now, limit);
        map.insert(key.to_string(), next);
        Ok(Duration::from_micros(wait))
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Simulates senders that go as soon as they are allowed; counts sends per sliding second.
    #[test]
    fn no_one_second_window_exceeds_the_limit() {
        for per_sec in [1u32, 7, 20, 50, 500, 800, 1000, 3000, 7000, 100_000] {
            let limit = Limit { per_sec };
            let mut tat = 0;
            let mut times = vec![];
            // 3 s worth of demand, all arriving at once.
            for _ in 0..(per_sec * 3) {
                let (next, wait) = gcra_step(tat, 0, limit);
                tat = next;
                times.push(wait);
            }
            times.sort();
            let mut max = 0;
            let mut j = 0;
            for i in 0..times.len() {
                while times[i] - times[j] >= 1_000_000 {
                    j += 1;
                }
                max = max.max(i - j + 1);
            }
            assert!(
                u32::try_from(max).unwrap() <= per_sec,
                "{per_sec}/s let {max} through in one second"
            );
            // And it is not far below: at least 80 % of the limit in steady state.
            let in_third_second = times
                .iter()
                .filter(|t| (2_000_000..3_000_000).contains(*t))
                .count();
            assert!(
                in_third_second as f64 >= f64::from(per_sec) * 0.8 - 1.0,
                "{per_sec}/s only sent {in_third_second} in a steady second"
            );
        }
    }
}
