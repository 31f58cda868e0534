//! The WeChat/WeCom access-token cache in Redis, shared by every process of the distributed
//! shape, so that one refresher fetches a token and everyone uses it (WECHAT.md §2.4).

use std::time::Duration;

use fingertip_platform::{CachedToken, StoreError, TokenStore, UnixClock};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

/// Deletes KEYS[1] only while it still holds ARGV[1] (the token part of "expires_at value").
const COMPARE_AND_DELETE: &str = r#"
local v = redis.call('GET', KEYS[1])
if v then
  local sp = string.find(v, ' ', 1, true)
  if sp and string.sub(v, sp + 1) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0
"#;

pub struct RedisTokenStore {
    conn: ConnectionManager,
    prefix: String,
    now: UnixClock,
}

impl RedisTokenStore {
    pub fn new(conn: ConnectionManager, prefix: &str, now: UnixClock) -> Self {
        Self {
            conn,
            prefix: prefix.to_string(),
            now,
        }
    }

    fn key(&self, k: &str) -> String {
        format!("{}:token:{k}", self.prefix)
    }

    fn lock_key(&self, k: &str) -> String {
        format!("{}:token-lock:{k}", self.prefix)
    }
}

fn err(e: redis::RedisError) -> StoreError {
    StoreError::new(e)
}

#[async_trait::async_trait]
impl TokenStore for RedisTokenStore {
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, StoreError> {
        let mut c = self.conn.clone();
        let v: Option<String> = c.get(self.key(key)).await.map_err(err)?;
        Ok(v.and_then(|v| {
            let (exp, value) = v.split_once(' ')?;
            Some(CachedToken {
                value: value.to_string(),
                expires_at: exp.parse().ok()?,
            })
        }))
    }

    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let ttl = token.expires_at - (self.now)();
        if ttl <= 0 {
            let _: () = c.del(self.key(key)).await.map_err(err)?;
            return Ok(());
        }
        let _: () = c
            .set_ex(
                self.key(key),
                format!("{} {}", token.expires_at, token.value),
                u64::try_from(ttl).unwrap_or(1),
            )
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn invalidate(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let _: i64 = redis::cmd("EVAL")
            .arg(COMPARE_AND_DELETE)
            .arg(1)
            .arg(self.key(key))
            .arg(value)
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let r: Option<String> = redis::cmd("SET")
            .arg(self.lock_key(key))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1))
            .query_async(&mut c)
            .await
            .map_err(err)?;
        Ok(r.is_some())
    }

    async fn unlock(&self, key: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let _: () = c.del(self.lock_key(key)).await.map_err(err)?;
        Ok(())
    }
}
