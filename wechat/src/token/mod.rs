//! Access-token cache: the in-memory adapter of the [`TokenStore`] port (which
//! `fingertip-platform` defines), and the refresh rule
//! shared by [`WechatClient`](crate::WechatClient) and [`WecomClient`](crate::WecomClient).
//!
//! # Refresh rule
//!
//! A token is used as long as more than [`REFRESH_AHEAD_SECS`] (300 s) of its life remain.
//! Below that, *one* caller refreshes it (the holder of [`TokenStore::try_lock`]) while every
//! other caller keeps using the cached token, which the platform keeps valid until its own
//! expiry (WECHAT.md §2.2). When the cache holds no usable token at all, callers that did not
//! get the lock wait and re-read the cache until the refresher has stored one (at most
//! [`LOCK_TTL`]). An early refresh that fails is logged and the cached token is used; it is
//! tried again at most once every [`AHEAD_BACKOFF`] per key, across processes.
//!
//! On errcode 40001/40014/42001 from an API call, the client invalidates the cached token only
//! if it still holds the failing one (compare-and-delete), fetches a fresh one through the same
//! rule, and retries the call exactly once.
//!
//! Written here: a generic cache crate (`moka`, `cached`) keeps values per process, while this
//! rule is about one refresher across processes, using the old token meanwhile, and never
//! throwing away a token another caller just fetched; the platform's stable-token semantics
//! (WECHAT.md §2) are what it encodes.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use fingertip_platform::token::{CachedToken, StoreError, TokenStore, UnixClock, system_clock};

use crate::error::WechatError;

/// Refresh a token when fewer than this many seconds of its life remain. WeChat's stable
/// token rotates 300 s before expiry, so an earlier refresh would only get the same token back.
pub const REFRESH_AHEAD_SECS: i64 = 300;
/// A cached token with fewer seconds left than this is not handed out (it would expire in
/// flight); callers wait for a fresh one instead.
pub const USABLE_MARGIN_SECS: i64 = 10;
/// Lease of the refresh lock, and the longest a token fetch may take. Also the longest a caller
/// waits for another refresher when the cache is empty.
pub const LOCK_TTL: Duration = Duration::from_secs(30);
/// At most one early refresh (one with a still-usable token cached) per key in this interval.
pub const AHEAD_BACKOFF: Duration = Duration::from_secs(30);

/// The default [`TokenStore`]: a map in this process. Tokens are kept until replaced or
/// invalidated (`get` may return an expired one, as the trait allows); leases use the
/// monotonic clock. Cheap to clone; clones share the map.
#[derive(Clone, Default)]
pub struct MemoryTokenStore {
    inner: Arc<Mutex<MemoryInner>>,
}

#[derive(Default)]
struct MemoryInner {
    tokens: HashMap<String, CachedToken>,
    locks: HashMap<String, Instant>,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemoryInner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryTokenStore")
            .field("tokens", &inner.tokens.len())
            .field("locks", &inner.locks.len())
            .finish()
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn get(&self, key: &str) -> Result<Option<CachedToken>, StoreError> {
        Ok(self.lock().tokens.get(key).cloned())
    }

    async fn put(&self, key: &str, token: &CachedToken) -> Result<(), StoreError> {
        self.lock().tokens.insert(key.to_owned(), token.clone());
        Ok(())
    }

    async fn invalidate(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.tokens.get(key).is_some_and(|t| t.value == value) {
            inner.tokens.remove(key);
        }
        Ok(())
    }

    async fn try_lock(&self, key: &str, ttl: Duration) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.locks.retain(|_, until| *until > now);
        if inner.locks.contains_key(key) {
            return Ok(false);
        }
        let until = now.checked_add(ttl).unwrap_or(now);
        inner.locks.insert(key.to_owned(), until);
        Ok(true)
    }

    async fn unlock(&self, key: &str) -> Result<(), StoreError> {
        self.lock().locks.remove(key);
        Ok(())
    }
}

/// A freshly fetched token: the value and the `expires_in` the platform answered.
pub(crate) struct Fetched {
    pub value: String,
    pub expires_in: i64,
}

/// One token's cache entry and the refresh rule from the module docs.
#[derive(Clone)]
pub(crate) struct TokenCache {
    pub store: Arc<dyn TokenStore>,
    pub clock: UnixClock,
    pub key: Arc<str>,
}

impl TokenCache {
    pub fn new(key: String) -> Self {
        Self {
            store: Arc::new(MemoryTokenStore::new()),
            clock: system_clock(),
            key: key.into(),
        }
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// Calls `call` with a token; when it fails with a token error, invalidates that token
    /// (compare-and-delete), gets a fresh one and calls once more.
    pub async fn call_with_token<T, F, Fut, C, CFut>(
        &self,
        fetch: &F,
        call: C,
    ) -> Result<T, WechatError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
        C: Fn(String) -> CFut,
        CFut: Future<Output = Result<T, WechatError>>,
    {
        let token = self.token(fetch).await?;
        match call(token.clone()).await {
            Err(e) if is_token_error(&e) => {
                tracing::info!(
                    key = %self.key,
                    errcode = e.errcode(),
                    "access token rejected; refreshing it and retrying once"
                );
                self.invalidate(&token).await;
                let fresh = self.token(fetch).await?;
                call(fresh).await
            }
            other => other,
        }
    }

    /// A usable token: the cached one, or one fetched with `fetch` by the single refresher.
    pub async fn token<F, Fut>(&self, fetch: &F) -> Result<String, WechatError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
    {
        let cached = self.store.get(&self.key).await?;
        if let Some(t) = cached {
            let left = t.expires_at.saturating_sub(self.now());
            if left >= REFRESH_AHEAD_SECS {
                return Ok(t.value);
            }
            if left > USABLE_MARGIN_SECS {
                return Ok(self.refresh_ahead(t, fetch).await);
            }
        }
        self.refresh_or_wait(fetch).await
    }

    /// Deletes the cached token if it is still `failed` (after 40001/40014/42001).
    async fn invalidate(&self, failed: &str) {
        if let Err(e) = self.store.invalidate(&self.key, failed).await {
            // The fresh fetch below then sees the failing token again and the retry fails
            // with the same errcode: logged, not hidden.
            tracing::warn!(key = %self.key, error = %e, "could not invalidate a rejected access token");
        }
    }

    /// The cached token is still usable but due: at most one caller per `AHEAD_BACKOFF`
    /// refreshes it; everyone else, and the refresher if the fetch fails, uses `cached`.
    async fn refresh_ahead<F, Fut>(&self, cached: CachedToken, fetch: &F) -> String
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
    {
        let gate = format!("{}:ahead", self.key);
        match self.store.try_lock(&gate, AHEAD_BACKOFF).await {
            Ok(true) => {}
            Ok(false) => return cached.value,
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "token store lock failed; using the cached token");
                return cached.value;
            }
        }
        match self.store.try_lock(&self.key, LOCK_TTL).await {
            Ok(true) => {}
            Ok(false) => return cached.value,
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "token store lock failed; using the cached token");
                return cached.value;
            }
        }
        match self.fetch_locked(fetch).await {
            Ok(value) => value,
            Err(e) => {
                tracing::warn!(key = %self.key, error = %e, "early access-token refresh failed; using the cached token");
                cached.value
            }
        }
    }

    /// No usable token cached: become the refresher, or wait for the one that is.
    async fn refresh_or_wait<F, Fut>(&self, fetch: &F) -> Result<String, WechatError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
    {
        let deadline = tokio::time::Instant::now() + LOCK_TTL + Duration::from_secs(1);
        let mut pause = Duration::from_millis(20);
        loop {
            if self.store.try_lock(&self.key, LOCK_TTL).await? {
                return self.fetch_locked(fetch).await;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(WechatError::TokenUnavailable {
                    reason: "another refresher held the lock and stored no token in time".into(),
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(250));
            if let Some(t) = self.store.get(&self.key).await?
                && t.expires_at.saturating_sub(self.now()) > USABLE_MARGIN_SECS
            {
                return Ok(t.value);
            }
        }
    }

    /// Holding the lock: re-read (another refresher may have just finished), else fetch and
    /// store. Always unlocks.
    async fn fetch_locked<F, Fut>(&self, fetch: &F) -> Result<String, WechatError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
    {
        let result = self.fetch_and_put(fetch).await;
        if let Err(e) = self.store.unlock(&self.key).await {
            // The lease ends by itself after LOCK_TTL.
            tracing::warn!(key = %self.key, error = %e, "could not release the token lock");
        }
        result
    }

    async fn fetch_and_put<F, Fut>(&self, fetch: &F) -> Result<String, WechatError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Fetched, WechatError>>,
    {
        if let Some(t) = self.store.get(&self.key).await?
            && t.expires_at.saturating_sub(self.now()) >= REFRESH_AHEAD_SECS
        {
            return Ok(t.value);
        }
        let fetched = tokio::time::timeout(LOCK_TTL, fetch())
            .await
            .map_err(|_| WechatError::TokenUnavailable {
                reason: "the token fetch took longer than the lock lease".into(),
            })??;
        let token = CachedToken {
            expires_at: self.now().saturating_add(fetched.expires_in),
            value: fetched.value,
        };
        tracing::debug!(key = %self.key, expires_at = token.expires_at, "fetched an access token");
        let platform = self.key.split(':').next().unwrap_or("unknown").to_string();
        metrics::counter!("fingertip_platform_token_fetches_total", "platform" => platform)
            .increment(1);
        if let Err(e) = self.store.put(&self.key, &token).await {
            // This caller still has a good token; others will fetch their own.
            tracing::warn!(key = %self.key, error = %e, "could not store the access token");
        }
        Ok(token.value)
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// True for the errcodes that mean "this access token is bad" (WECHAT.md §0).
pub(crate) fn is_token_error(e: &WechatError) -> bool {
    matches!(e.errcode(), Some(40001 | 40014 | 42001))
}

#[cfg(test)]
mod tests;
