//! Access tokens: cached, refreshed ahead of expiry, refreshed once on a token error, shared
//! between clients and callers.

use super::*;

#[tokio::test]
async fn token_is_cached_and_reused() {
    let env = setup().await;
    for _ in 0..3 {
        env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    }
    assert_eq!(env.mock.token_fetches(STABLE), 1);
    assert_eq!(env.mock.calls(STABLE), 1);
    assert_eq!(env.mock.calls(SEND), 3);
    // Never the classic endpoint.
    assert_eq!(env.mock.calls("/cgi-bin/token"), 0);
}

#[tokio::test]
async fn token_is_refreshed_ahead_of_expiry() {
    let env = setup().await;
    let first = env.wechat.access_token().await.unwrap();
    // 301 s left: still used.
    env.clock.advance(&env.mock, 7200 - 301);
    assert_eq!(env.wechat.access_token().await.unwrap(), first);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 1);
    // 299 s left: one caller refreshes, and the stable endpoint hands out a new token.
    env.clock.advance(&env.mock, 2);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 2);
    let second = env.wechat.access_token().await.unwrap();
    assert_ne!(first, second);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 2);
    // The new token lasts its full life.
    env.clock.advance(&env.mock, 7200 - 301);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 2);
}

#[tokio::test]
async fn invalidated_token_mid_use_refreshes_once_and_the_call_succeeds() {
    let env = setup().await;
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    let before = env.wechat.access_token().await.unwrap();
    env.mock.invalidate_tokens(); // the platform now answers 40001 for it
    let msgid = env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert!(msgid > 1 << 53);
    assert_eq!(env.mock.token_fetches(STABLE), 2, "exactly one refresh");
    assert_eq!(env.mock.calls(SEND), 3, "one failed call, one retry");
    assert_ne!(env.wechat.access_token().await.unwrap(), before);
    assert_eq!(env.mock.total_sends(), 2);
}

#[tokio::test]
async fn expired_token_refreshes_once_and_the_call_succeeds() {
    let env = setup().await;
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    env.mock.expire_tokens(); // 42001 although the client thinks it has 2 hours left
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 2);
    assert_eq!(env.mock.calls(SEND), 3);
}

#[tokio::test]
async fn a_token_error_is_retried_only_once() {
    let env = setup().await;
    env.mock.fail_next(SEND, 40001, 1);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.calls(SEND), 2);
    assert_eq!(env.mock.calls(STABLE), 2);

    env.mock.fail_next(SEND, 42001, 2);
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(42001));
    assert_eq!(err.disposition(), Disposition::Retry);
    assert_eq!(env.mock.calls(SEND), 4, "no second retry");
    assert_no_secrets(&err);
}

#[tokio::test]
async fn concurrent_callers_with_an_empty_cache_fetch_one_token() {
    let env = setup().await;
    env.mock.set_latency(Duration::from_millis(150));
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let c = env.wechat.clone();
            tokio::spawn(async move { c.access_token().await })
        })
        .collect();
    let mut tokens = Vec::new();
    for c in calls {
        tokens.push(c.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(env.mock.calls(STABLE), 1, "one fetch under the lock");
}

#[tokio::test]
async fn concurrent_sends_after_invalidation_refresh_once() {
    let env = setup().await;
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    env.mock.invalidate_tokens();
    env.mock.set_latency(Duration::from_millis(50));
    let sends: Vec<_> = (0..32)
        .map(|_| {
            let c = env.wechat.clone();
            tokio::spawn(async move { c.send_subscribe(&lesson("党课")).await })
        })
        .collect();
    for s in sends {
        s.await.unwrap().unwrap();
    }
    // Every send saw 40001 once; the compare-and-delete and the lock let one of them refresh.
    assert_eq!(env.mock.token_fetches(STABLE), 2);
    assert_eq!(env.mock.total_sends(), 33);
}

#[tokio::test]
async fn clients_sharing_a_store_share_the_token() {
    let env = setup().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let a = wechat_client(&env.server, &env.clock).with_token_store(store.clone());
    let b = wechat_client(&env.server, &env.clock).with_token_store(store.clone());
    assert_eq!(
        a.access_token().await.unwrap(),
        b.access_token().await.unwrap()
    );
    assert_eq!(env.mock.token_fetches(STABLE), 1);
    let cached = store.get(a.token_key()).await.unwrap().unwrap();
    assert_eq!(a.token_key(), format!("wechat:stable_token:{APPID}"));
    assert_eq!(cached.expires_at, T0 + 7200);
}

#[tokio::test]
async fn token_endpoint_failure_is_surfaced_then_recovers() {
    let env = setup().await;
    env.mock.fail_next(STABLE, -1, 1);
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(-1));
    assert_eq!(err.disposition(), Disposition::Retry);
    assert_eq!(env.mock.calls(SEND), 0);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();

    let bad = WechatClient::new(
        http_client(Duration::from_secs(5)),
        WechatConfig {
            api_base: env.server.base_url(),
            appid: APPID.into(),
            secret: "wrong-secret".into(),
        },
    );
    let err = bad.send_subscribe(&lesson("党课")).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40125));
    assert_eq!(err.disposition(), Disposition::Retry);
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));
}
