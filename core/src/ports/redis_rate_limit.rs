//! GCRA in Redis (see [`super::rate_limit`]): one key per app holds the theoretical arrival
//! time, updated by a small Lua script with Redis's own clock, so that every worker of the
//! distributed shape shares one limit whatever their clocks say.

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::rate_limit::{Limit, RateLimiter};
use crate::error::{CoreError, CoreResult};

const GCRA: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowed = tat - tonumber(ARGV[2])
local wait = 0
if allowed > now then wait = allowed - now end
local nxt = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return wait
"#;

pub struct RedisRateLimiter {
    conn: ConnectionManager,
    prefix: String,
}

impl RedisRateLimiter {
    pub fn new(conn: ConnectionManager, prefix: &str) -> Self {
        Self {
            conn,
            prefix: prefix.to_string(),
        }
    }
}

#[async_trait::async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn reserve(&self, key: &str, limit: Limit) -> CoreResult<Duration> {
        let (interval, tolerance) = limit.gcra();
        let mut c = self.conn.clone();
        let wait: i64 = redis::cmd("EVAL")
            .arg(GCRA)
            .arg(1)
            .arg(format!("{}:rate:{key}", self.prefix))
            .arg(interval)
            .arg(tolerance)
            .query_async(&mut c)
            .await
            .map_err(|e| CoreError::Queue(format!("rate limiter: {e}")))?;
        Ok(Duration::from_micros(u64::try_from(wait).unwrap_or(0)))
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
