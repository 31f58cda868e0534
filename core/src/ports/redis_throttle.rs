//! [`Throttle`] in Redis, shared by every API process: `INCR` of a key per window, which
//! expires when the window is over.

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;

use super::throttle::{Throttle, window};
use crate::error::{CoreError, CoreResult};

pub struct RedisThrottle {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisThrottle {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_string(),
        }
    }
}

#[async_trait::async_trait]
impl Throttle for RedisThrottle {
    async fn hit(&self, key: &str, window_secs: u64, now: DateTime<Utc>) -> CoreResult<u64> {
        let (index, ends) = window(window_secs, now);
        let k = format!("{}:throttle:{key}:{index}", self.prefix);
        // Kept a little past the window's end: clocks of processes differ by a few seconds.
        let ttl = (ends - now.timestamp()).max(1) + 60;
        let mut c = self.conn.clone();
        let (n,): (u64,) = redis::pipe()
            .atomic()
            .incr(&k, 1u64)
            .expire(&k, ttl)
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(|e| CoreError::Queue(format!("throttle: {e}")))?;
        Ok(n)
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
