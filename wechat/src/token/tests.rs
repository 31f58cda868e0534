use super::*;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

fn cache_at(now: Arc<AtomicI64>) -> TokenCache {
    let mut c = TokenCache::new("k".into());
    c.clock = Arc::new(move || now.load(Ordering::SeqCst));
    c
}

#[tokio::test]
async fn memory_store_compare_and_delete() {
    let s = MemoryTokenStore::new();
    let t = CachedToken {
        value: "a".into(),
        expires_at: 10,
    };
    s.put("k", &t).await.unwrap();
    s.invalidate("k", "b").await.unwrap();
    assert_eq!(s.get("k").await.unwrap(), Some(t));
    s.invalidate("k", "a").await.unwrap();
    assert_eq!(s.get("k").await.unwrap(), None);
    s.invalidate("missing", "a").await.unwrap();
}

#[tokio::test]
async fn memory_store_lock_is_a_lease() {
    let s = MemoryTokenStore::new();
    assert!(s.try_lock("k", Duration::from_millis(50)).await.unwrap());
    assert!(!s.try_lock("k", Duration::from_millis(50)).await.unwrap());
    // Locks and tokens are separate namespaces.
    assert_eq!(s.get("k").await.unwrap(), None);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert!(s.try_lock("k", Duration::from_secs(5)).await.unwrap());
    s.unlock("k").await.unwrap();
    assert!(s.try_lock("k", Duration::from_secs(5)).await.unwrap());
}

#[test]
fn cached_token_debug_redacts_value() {
    let t = CachedToken {
        value: "secret-token".into(),
        expires_at: 1,
    };
    assert!(!format!("{t:?}").contains("secret-token"));
}

#[tokio::test]
async fn failed_early_refresh_keeps_the_cached_token_and_backs_off() {
    let now = Arc::new(AtomicI64::new(1_000));
    let cache = cache_at(now.clone());
    cache
        .store
        .put(
            "k",
            &CachedToken {
                value: "old".into(),
                expires_at: 1_100,
            },
        )
        .await
        .unwrap();
    let fetches = AtomicU32::new(0);
    let failing = || async {
        fetches.fetch_add(1, Ordering::SeqCst);
        Err::<Fetched, _>(WechatError::Api {
            errcode: -1,
            errmsg: "busy".into(),
        })
    };
    assert_eq!(cache.token(&failing).await.unwrap(), "old");
    assert_eq!(cache.token(&failing).await.unwrap(), "old");
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "second call is inside the backoff"
    );
}

#[tokio::test]
async fn same_token_returned_late_is_not_refetched_every_call() {
    // WeCom may hand back the same token until it expires.
    let now = Arc::new(AtomicI64::new(1_000));
    let cache = cache_at(now.clone());
    let fetches = AtomicU32::new(0);
    let fetch = || async {
        fetches.fetch_add(1, Ordering::SeqCst);
        Ok(Fetched {
            value: "same".into(),
            expires_in: 100,
        })
    };
    for _ in 0..5 {
        assert_eq!(cache.token(&fetch).await.unwrap(), "same");
    }
    // The first fetch, then one early refresh; the rest fall inside the backoff.
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_late_token_error_does_not_drop_the_newer_token() {
    // The call fails with the old token after another refresher already stored a new one:
    // the compare-and-delete keeps the new one, and the retry uses it without a fetch.
    let now = Arc::new(AtomicI64::new(1_000));
    let cache = cache_at(now);
    let old = CachedToken {
        value: "old".into(),
        expires_at: 9_000,
    };
    cache.store.put("k", &old).await.unwrap();
    let fetches = AtomicU32::new(0);
    let fetch = || async {
        fetches.fetch_add(1, Ordering::SeqCst);
        Ok(Fetched {
            value: "fetched".into(),
            expires_in: 7200,
        })
    };
    let used = Mutex::new(Vec::new());
    let result = cache
        .call_with_token(&fetch, |token| {
            used.lock().unwrap().push(token.clone());
            let store = cache.store.clone();
            async move {
                if token == "old" {
                    let newer = CachedToken {
                        value: "newer".into(),
                        expires_at: 9_000,
                    };
                    store.put("k", &newer).await.unwrap();
                    return Err(WechatError::Api {
                        errcode: 40001,
                        errmsg: "x".into(),
                    });
                }
                Ok(token)
            }
        })
        .await;
    assert_eq!(result.unwrap(), "newer");
    assert_eq!(*used.lock().unwrap(), vec!["old", "newer"]);
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn token_errors_are_retried_once_other_errors_not_at_all() {
    let now = Arc::new(AtomicI64::new(1_000));
    let cache = cache_at(now);
    let fetch = || async {
        Ok(Fetched {
            value: "t".into(),
            expires_in: 7200,
        })
    };
    for (errcode, expected_calls) in [(42001, 2), (40014, 2), (40001, 2), (-1, 1), (43101, 1)] {
        let calls = AtomicU32::new(0);
        let err = cache
            .call_with_token(&fetch, |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(WechatError::Api {
                    errcode,
                    errmsg: "x".into(),
                })
            })
            .await
            .unwrap_err();
        assert_eq!(err.errcode(), Some(errcode));
        assert_eq!(calls.load(Ordering::SeqCst), expected_calls, "{errcode}");
    }
}

#[tokio::test]
async fn hard_refresh_error_is_returned_and_the_lock_released() {
    let now = Arc::new(AtomicI64::new(1_000));
    let cache = cache_at(now);
    let err = cache
        .token(&|| async {
            Err::<Fetched, _>(WechatError::Api {
                errcode: 40125,
                errmsg: "x".into(),
            })
        })
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(40125));
    assert!(cache.store.try_lock("k", LOCK_TTL).await.unwrap());
}
