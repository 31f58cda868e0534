//! [`Throttle`] in process memory: one counter per key and window.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::throttle::{Throttle, window};
use crate::error::CoreResult;

/// Keys kept before stale windows are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct MemoryThrottle {
    /// key → (window index, window end, attempts)
    counts: Mutex<HashMap<String, (u64, i64, u64)>>,
}

impl MemoryThrottle {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Throttle for MemoryThrottle {
    async fn hit(&self, key: &str, window_secs: u64, now: DateTime<Utc>) -> CoreResult<u64> {
        let (index, ends) = window(window_secs, now);
        let mut map = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= SWEEP_AT {
            let t = now.timestamp();
            map.retain(|_, (_, end, _)| *end > t);
        }
        let e = map.entry(key.to_string()).or_insert((index, ends, 0));
        if e.0 != index {
            *e = (index, ends, 0);
        }
        e.2 += 1;
        Ok(e.2)
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_key_and_starts_again_in_the_next_window() {
        let t = MemoryThrottle::new();
        let at = DateTime::from_timestamp(1_000_000_020, 0).unwrap();
        for n in 1..=3 {
            assert_eq!(t.hit("a", 60, at).await.unwrap(), n);
        }
        assert_eq!(t.hit("b", 60, at).await.unwrap(), 1);
        let later = at + chrono::Duration::seconds(60);
        assert_eq!(t.hit("a", 60, later).await.unwrap(), 1);
    }
}
