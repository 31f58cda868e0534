//! The access-token store port: where the platform clients keep their access tokens, and the
//! lease lock that lets one process at a time refresh one. The clients (`fingertip-wechat`) use
//! it; the in-memory adapter lives with them and the Redis adapter with the core's other Redis
//! adapters, and the binary picks one.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix seconds now. Injected into the clients so tests can move time.
pub type UnixClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock as a [`UnixClock`].
pub fn system_clock() -> UnixClock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// An access token and when it stops working. `Debug` redacts the value.
#[derive(Clone, PartialEq, Eq)]
pub struct CachedToken {
    /// The access token (up to 512 characters).
    pub value: String,
    /// Unix seconds, computed as `now + expires_in` when the token was fetched.
    pub expires_at: i64,
}

impl fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"***")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A failure of the token store (e.g. Redis unreachable). Its message must not contain
/// secrets or token values.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(Box<dyn std::error::Error + Send + Sync + 'static>);

impl StoreError {
    /// Wraps the underlying error.
    pub fn new(e: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        StoreError(e.into())
    }
}

/// Shared storage for access tokens, plus a lease lock so that one process at a time refreshes
/// a given token. Implemented in memory (`fingertip_wechat::MemoryTokenStore`) and over Redis
/// (`fingertip_core::ports::redis_token_store`).
///
/// Keys are chosen by the clients (`wechat:stable_token:{appid}`,
/// `wecom:token:{corpid}:{agentid}`); an implementation may prefix them. Tokens and locks live
/// in separate namespaces: `try_lock(k)` never changes what `get(k)` returns.
///
/// Every method must be safe to call concurrently from many tasks and processes.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The token stored under `key`, if any. May return a token whose `expires_at` has passed
    /// (callers check it); a Redis store normally will not, because of the TTL set by `put`.
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, StoreError>;

    /// Stores `token` under `key`, replacing any previous one, with time-to-live
    /// `token.expires_at - now` seconds (Redis: `SET key value EX ttl`). When that is not
    /// positive the store may delete the key instead.
    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), StoreError>;

    /// Deletes the entry only if it still holds `value` (compare-and-delete, atomically: a Redis
    /// store uses a Lua script or `WATCH`). A token stored meanwhile by another refresher is
    /// left alone.
    async fn invalidate(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Becomes the single refresher of `key` for `ttl`; false when another holds it.
    ///
    /// The lock is a lease (Redis: `SET lock:key 1 NX PX ttl`): it ends by itself after `ttl`
    /// even if [`unlock`](Self::unlock) is never called (a crashed refresher), and then anyone
    /// may take it. The clients keep every fetch shorter than the lease.
    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Releases the lock of `key` (whoever holds it). Releasing a free lock is not an error.
    async fn unlock(&self, key: &str) -> Result<(), StoreError>;
}
