//! Access tokens, subscribe sends and WeCom app messages against the in-process mock, over
//! real HTTP on 127.0.0.1.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use fingertip_platform::Disposition;
use fingertip_platform::keywords::{KeywordType, fit};
use fingertip_wechat::{
    MemoryTokenStore, SubscribeMessage, TextCard, TokenStore, WechatClient, WechatConfig,
    WechatError, WecomClient, WecomConfig, http_client,
};
use fingertip_wechat_mock::{MockServer, MockWechat, SentKind};
use serde_json::{Value, json};

const APPID: &str = "wx-test-appid";
const SECRET: &str = "test-secret-do-not-log";
const CORPID: &str = "ww-test-corp";
const AGENT: i64 = 1000002;
const AGENT_SECRET: &str = "agent-secret-do-not-log";
const OTHER_AGENT: i64 = 1000003;
const OTHER_SECRET: &str = "other-agent-secret";
const TEMPLATE: &str = "tpl-lesson";
const OPENID: &str = "o-member-1";
const STABLE: &str = "/cgi-bin/stable_token";
const SEND: &str = "/cgi-bin/message/subscribe/send";
const GETTOKEN: &str = "/cgi-bin/gettoken";
const WECOM_SEND: &str = "/cgi-bin/message/send";
/// Start of the test clock (unix seconds), far from the system clock on purpose.
const T0: i64 = 1_000_000;

/// A unix clock the test moves, together with the mock's.
#[derive(Clone)]
struct TestClock(Arc<AtomicI64>);

impl TestClock {
    fn new() -> Self {
        TestClock(Arc::new(AtomicI64::new(T0)))
    }

    fn as_clock(&self) -> fingertip_wechat::UnixClock {
        let now = self.0.clone();
        Arc::new(move || now.load(Ordering::SeqCst))
    }

    /// Moves this clock and the mock's forward.
    fn advance(&self, mock: &MockWechat, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
        mock.advance(Duration::from_secs(secs as u64));
    }
}

struct Env {
    server: MockServer,
    mock: MockWechat,
    clock: TestClock,
    wechat: WechatClient,
    wecom: WecomClient,
}

async fn setup() -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mock = MockWechat::new(APPID, SECRET);
    mock.register_template(TEMPLATE, &["thing1", "time2"]);
    mock.grant_subscription(OPENID, TEMPLATE, 100);
    mock.add_wecom_agent(CORPID, AGENT, AGENT_SECRET);
    mock.add_wecom_agent(CORPID, OTHER_AGENT, OTHER_SECRET);
    mock.add_wecom_users(AGENT, &["ZhangSan", "lisi", "wangwu"]);
    mock.add_wecom_users(OTHER_AGENT, &["zhaoliu"]);
    let server = mock
        .start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let clock = TestClock::new();
    let wechat = wechat_client(&server, &clock);
    let wecom = wecom_client(&server, &clock, AGENT, AGENT_SECRET);
    Env {
        mock,
        clock,
        wechat,
        wecom,
        server,
    }
}

fn wechat_client(server: &MockServer, clock: &TestClock) -> WechatClient {
    WechatClient::new(
        http_client(Duration::from_secs(5)),
        WechatConfig {
            api_base: server.base_url(),
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    )
    .with_clock(clock.as_clock())
}

fn wecom_client(server: &MockServer, clock: &TestClock, agentid: i64, secret: &str) -> WecomClient {
    WecomClient::new(
        http_client(Duration::from_secs(5)),
        WecomConfig {
            api_base: server.base_url(),
            corpid: CORPID.into(),
            secret: secret.into(),
            agentid,
        },
    )
    .with_clock(clock.as_clock())
}

fn lesson(thing: &str) -> SubscribeMessage {
    SubscribeMessage {
        touser: OPENID.into(),
        template_id: TEMPLATE.into(),
        page: Some("pages/lesson/index?id=7".into()),
        data: BTreeMap::from([
            ("thing1".to_owned(), thing.to_owned()),
            ("time2".to_owned(), "2026年12月01日 09:00".to_owned()),
        ]),
        miniprogram_state: None,
    }
}

fn card(users: &[&str]) -> TextCard {
    TextCard {
        touser: users.iter().map(|u| (*u).to_owned()).collect(),
        title: "支部党课".into(),
        description: "<div class=\"gray\">2026年12月01日</div>请准时参加".into(),
        url: "https://fingertip.example/lessons/7".into(),
        btntxt: None,
    }
}

fn assert_no_secrets(err: &WechatError) {
    let text = format!("{err} | {err:?}");
    for s in [SECRET, AGENT_SECRET, "mock-at-"] {
        assert!(!text.contains(s), "{s} leaked: {text}");
    }
}

// ---- tokens --------------------------------------------------------------------------------

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

// ---- subscribe send ------------------------------------------------------------------------

#[tokio::test]
async fn subscribe_send_succeeds_with_a_msgid_above_2_pow_53() {
    let env = setup().await;
    let msg = lesson("学习贯彻党的二十届三中全会精神");
    let msgid = env.wechat.send_subscribe(&msg).await.unwrap();
    assert!(msgid > 1 << 53, "{msgid}");
    let sent = env.mock.sent();
    assert_eq!(sent.len(), 1);
    let s = &sent[0];
    assert_eq!(s.kind, SentKind::Subscribe);
    // The exact integer came through (an f64 parse would have rounded it).
    assert_eq!(s.msgid.parse::<u64>().unwrap(), msgid);
    assert_eq!(s.touser, vec![OPENID]);
    assert_eq!(s.template, TEMPLATE);
    assert_eq!(s.value("thing1"), Some("学习贯彻党的二十届三中全会精神"));
    assert_eq!(s.value("time2"), Some("2026年12月01日 09:00"));
    assert_eq!(s.page.as_deref(), Some("pages/lesson/index?id=7"));
    assert_eq!(env.mock.grants(OPENID, TEMPLATE), 99);
    assert_eq!(env.mock.sends_to(OPENID), 1);
}

#[tokio::test]
async fn no_grant_is_43101_no_consent() {
    let env = setup().await;
    env.mock.grant_subscription("o-once", TEMPLATE, 1);
    let mut msg = lesson("党课");
    msg.touser = "o-once".into();
    env.wechat.send_subscribe(&msg).await.unwrap();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(43101));
    assert_eq!(err.disposition(), Disposition::NoConsent);
    assert_eq!(env.mock.sends_to("o-once"), 1);

    env.mock.add_openid("o-never");
    msg.touser = "o-never".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::NoConsent);
}

#[tokio::test]
async fn bad_value_is_47003_permanent_and_fit_repairs_it() {
    let env = setup().await;
    let title = "学习贯彻习近平新时代中国特色社会主义思想主题教育专题党课";
    let err = env.wechat.send_subscribe(&lesson(title)).await.unwrap_err();
    assert_eq!(err.errcode(), Some(47003));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert!(
        err.to_string()
            .contains("argument invalid! data.thing1.value invalid"),
        "{err}"
    );
    assert_eq!(
        env.mock.grants(OPENID, TEMPLATE),
        100,
        "failed sends keep the grant"
    );

    let fitted = fit(KeywordType::of("thing1").unwrap(), title);
    env.wechat.send_subscribe(&lesson(&fitted)).await.unwrap();
    assert_eq!(env.mock.sent()[0].value("thing1"), Some(fitted.as_str()));
}

#[tokio::test]
async fn unknown_template_openid_and_page_are_permanent() {
    let env = setup().await;
    let mut msg = lesson("党课");
    msg.template_id = "tpl-unknown".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40037));
    assert_eq!(err.disposition(), Disposition::Permanent);

    let mut msg = lesson("党课");
    msg.touser = "o-stranger".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40003));
    assert_eq!(err.disposition(), Disposition::Permanent);

    env.mock.allow_pages(&["pages/index/index"]);
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(41030));
    env.mock.allow_pages(&["pages/lesson/index"]);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();

    let mut msg = lesson("党课");
    msg.touser = " ".into();
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidRequest { .. }));
    assert_eq!(env.mock.calls(SEND), 4, "the empty touser was not sent");
}

#[tokio::test]
async fn injected_faults_map_to_dispositions() {
    let env = setup().await;
    let cases = [
        (-1, Disposition::Retry),
        (45011, Disposition::Retry),
        (45009, Disposition::RetryTomorrow),
        (48001, Disposition::Retry),
    ];
    for (errcode, disposition) in cases {
        env.mock.fail_next(SEND, errcode, 1);
        let err = env
            .wechat
            .send_subscribe(&lesson("党课"))
            .await
            .unwrap_err();
        assert_eq!(err.errcode(), Some(errcode));
        assert_eq!(err.disposition(), disposition, "{errcode}");
        assert_no_secrets(&err);
    }
    assert_eq!(env.mock.total_sends(), 0);
    env.wechat.send_subscribe(&lesson("党课")).await.unwrap();
    assert_eq!(env.mock.token_fetches(STABLE), 1);
}

#[tokio::test]
async fn success_without_msgid_is_a_decode_error() {
    let env = setup().await;
    env.mock.fail_next(SEND, 0, 1); // {"errcode":0,"errmsg":"ok rid: .."}
    let err = env
        .wechat
        .send_subscribe(&lesson("党课"))
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::Decode { .. }), "{err:?}");
    assert_eq!(err.disposition(), Disposition::InDoubt);
}

#[tokio::test]
async fn a_timeout_is_in_doubt_and_a_closed_port_is_retry() {
    let env = setup().await;
    env.wechat.access_token().await.unwrap();
    env.mock.set_latency(Duration::from_millis(400));
    let impatient = WechatClient::new(
        http_client(Duration::from_millis(100)),
        WechatConfig {
            api_base: env.server.base_url(),
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    );
    let err = impatient.send_subscribe(&lesson("党课")).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::InDoubt, "{err:?}");
    assert_no_secrets(&err);

    let base = env.server.base_url();
    env.server.shutdown().await;
    let gone = WechatClient::new(
        http_client(Duration::from_secs(1)),
        WechatConfig {
            api_base: base,
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    );
    let err = gone.send_subscribe(&lesson("党课")).await.unwrap_err();
    assert!(matches!(err, WechatError::Transport { .. }), "{err:?}");
    assert_eq!(err.disposition(), Disposition::Retry);
}

#[tokio::test]
async fn latency_does_not_serialize_requests_and_peak_rate_is_measured() {
    let env = setup().await;
    env.wechat.access_token().await.unwrap();
    env.mock.reset_counters();
    env.mock.set_latency(Duration::from_millis(50));
    let started = Instant::now();
    let sends: Vec<_> = (0..64)
        .map(|_| {
            let c = env.wechat.clone();
            tokio::spawn(async move { c.send_subscribe(&lesson("党课")).await })
        })
        .collect();
    for s in sends {
        s.await.unwrap().unwrap();
    }
    let took = started.elapsed();
    // One after another would take 64 × 50 ms = 3.2 s.
    assert!(took < Duration::from_millis(1600), "{took:?}");
    let stats = env.mock.send_stats();
    assert_eq!(stats.total, 64);
    assert_eq!(stats.per_user[OPENID], 64);
    assert!(stats.peak_per_second >= 32, "{stats:?}");
    assert!(stats.peak_per_second <= 64);
    env.mock.reset_counters();
    assert_eq!(env.mock.peak_sends_per_second(), 0);
    assert!(env.mock.sent().is_empty());
}

// ---- WeCom ---------------------------------------------------------------------------------

#[tokio::test]
async fn wecom_send_reports_partly_invalid_users() {
    let env = setup().await;
    let result = env
        .wecom
        .send_textcard(&card(&["ZhangSan", "Ghost", "lisi", "NoBody"]))
        .await
        .unwrap();
    assert!(!result.msgid.is_empty());
    assert_eq!(result.invalid_users, vec!["ghost", "nobody"]);
    let sent = env.mock.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, SentKind::Wecom);
    assert_eq!(sent[0].template, "textcard");
    assert_eq!(sent[0].agentid, Some(AGENT));
    assert_eq!(sent[0].touser, vec!["zhangsan", "lisi"]);
    assert_eq!(sent[0].msgid, result.msgid);
    assert_eq!(sent[0].value("title"), Some("支部党课"));
    assert_eq!(env.mock.sends_to("zhangsan"), 1);
    assert_eq!(env.mock.sends_to("wangwu"), 0);
    assert_eq!(env.mock.token_fetches(GETTOKEN), 1);
}

#[tokio::test]
async fn wecom_all_invalid_is_81013_permanent() {
    let env = setup().await;
    let err = env
        .wecom
        .send_textcard(&card(&["ghost", "nobody"]))
        .await
        .unwrap_err();
    assert_eq!(err.errcode(), Some(81013));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert!(err.to_string().contains("more info at"), "{err}");
    assert_no_secrets(&err);
    assert_eq!(env.mock.total_sends(), 0);
}

#[tokio::test]
async fn wecom_long_texts_are_cut_to_the_byte_limits() {
    let env = setup().await;
    let mut c = card(&["lisi"]);
    c.title = "学习".repeat(100);
    c.description = "内容".repeat(400);
    c.btntxt = Some("立即去学习".into());
    env.wecom.send_textcard(&c).await.unwrap();
    let sent = &env.mock.sent()[0];
    let title = sent.value("title").unwrap();
    assert!(title.len() <= 128 && title.ends_with('…'), "{title}");
    assert!(sent.value("description").unwrap().len() <= 512);
    assert_eq!(sent.value("btntxt"), Some("立即去学"));

    let too_many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let err = env.wecom.send_textcard(&card(&refs)).await.unwrap_err();
    assert!(matches!(err, WechatError::InvalidRequest { .. }));
    assert_eq!(err.disposition(), Disposition::Permanent);
    assert_eq!(env.mock.calls(WECOM_SEND), 1);
}

#[tokio::test]
async fn wecom_token_is_per_agent() {
    let env = setup().await;
    let other = wecom_client(&env.server, &env.clock, OTHER_AGENT, OTHER_SECRET);
    assert_ne!(env.wecom.token_key(), other.token_key());
    assert_eq!(
        env.wecom.token_key(),
        format!("wecom:token:{CORPID}:{AGENT}")
    );
    let mine = env.wecom.access_token().await.unwrap();
    let theirs = other.access_token().await.unwrap();
    assert_ne!(mine, theirs);
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    other.send_textcard(&card(&["zhaoliu"])).await.unwrap();
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);

    // A token only works for its own agent (301002), and a mini-program token not at all.
    let http = http_client(Duration::from_secs(5));
    let base = env.server.base_url();
    let body = json!({"touser": "lisi", "msgtype": "textcard", "agentid": AGENT,
        "textcard": {"title": "t", "description": "d", "url": "https://x"}});
    let send = |token: String| {
        let http = http.clone();
        let url = format!("{base}{WECOM_SEND}?access_token={token}");
        let body = body.clone();
        async move {
            let v: Value = http
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["errcode"].as_i64().unwrap()
        }
    };
    assert_eq!(send(theirs).await, 301002);
    assert_eq!(send(env.wechat.access_token().await.unwrap()).await, 40014);
    assert_eq!(send(mine).await, 0);
}

#[tokio::test]
async fn wecom_bad_token_is_refreshed_once() {
    let env = setup().await;
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    env.mock.invalidate_tokens(); // WeCom answers 40014
    env.wecom.send_textcard(&card(&["lisi"])).await.unwrap();
    assert_eq!(env.mock.token_fetches(GETTOKEN), 2);
    assert_eq!(env.mock.calls(WECOM_SEND), 3);

    let wrong = wecom_client(&env.server, &env.clock, AGENT, "wrong-agent-secret");
    let err = wrong.send_textcard(&card(&["lisi"])).await.unwrap_err();
    assert_eq!(err.errcode(), Some(40001));
    assert_eq!(err.disposition(), Disposition::Retry);
    assert!(!format!("{err} {err:?}").contains("wrong-agent-secret"));
}

#[tokio::test]
async fn wecom_faults_map_to_dispositions() {
    let env = setup().await;
    for (errcode, disposition) in [
        (-1, Disposition::Retry),
        (45033, Disposition::Retry),
        (45009, Disposition::RetryTomorrow),
        (60020, Disposition::Permanent),
    ] {
        env.mock.fail_next(WECOM_SEND, errcode, 1);
        let err = env.wecom.send_textcard(&card(&["lisi"])).await.unwrap_err();
        assert_eq!(err.disposition(), disposition, "{errcode}");
    }
}

// ---- the mock over HTTP ----------------------------------------------------------------------

#[tokio::test]
async fn http_control_routes_drive_the_push_side() {
    let env = setup().await;
    let base = env.server.base_url();
    let http = http_client(Duration::from_secs(5));
    let post = |path: &str, body: Value| {
        let req = http.post(format!("{base}{path}")).json(&body);
        async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let get = |path: &str| {
        let req = http.get(format!("{base}{path}"));
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };

    post(
        "/mock/templates",
        json!({"template_id": "tpl-2", "keywords": ["phrase3"]}),
    )
    .await;
    let granted = post(
        "/mock/grants",
        json!({"openid": "o-curl", "template_id": "tpl-2", "count": 2}),
    )
    .await;
    assert_eq!(granted, json!({"ok": true, "grants": 2}));
    let msg = SubscribeMessage {
        touser: "o-curl".into(),
        template_id: "tpl-2".into(),
        data: BTreeMap::from([("phrase3".to_owned(), "已发布".to_owned())]),
        ..Default::default()
    };
    env.wechat.send_subscribe(&msg).await.unwrap();

    post(
        "/mock/wecom/agents",
        json!({"corpid": "ww-curl", "agentid": 42, "secret": "s42"}),
    )
    .await;
    post(
        "/mock/wecom/users",
        json!({"agentid": 42, "userids": ["Curl"]}),
    )
    .await;
    let curl_wecom = WecomClient::new(
        http_client(Duration::from_secs(5)),
        WecomConfig {
            api_base: base.clone(),
            corpid: "ww-curl".into(),
            secret: "s42".into(),
            agentid: 42,
        },
    );
    curl_wecom.send_textcard(&card(&["curl"])).await.unwrap();

    post("/mock/tokens/expire", json!({})).await;
    env.wechat.send_subscribe(&msg).await.unwrap(); // 42001, refresh, retry
    post("/mock/tokens/invalidate", json!({})).await;
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.errcode(), Some(43101), "grants used up");
    post("/mock/faults", json!({"path": SEND, "errcode": 45009})).await;
    let err = env.wechat.send_subscribe(&msg).await.unwrap_err();
    assert_eq!(err.disposition(), Disposition::RetryTomorrow);
    post("/mock/latency", json!({"ms": 1})).await;

    let stats = get("/mock/stats").await;
    assert_eq!(stats["sends"]["total"], 3);
    assert_eq!(stats["sends"]["per_user"]["o-curl"], 2);
    assert_eq!(stats["sends"]["per_user"]["curl"], 1);
    assert!(stats["sends"]["peak_per_second"].as_u64().unwrap() >= 1);
    assert_eq!(stats["token_fetches"][STABLE], 3);
    assert_eq!(stats["token_fetches"][GETTOKEN], 1);
    assert_eq!(stats["calls"][SEND], 6);
    let sent = get("/mock/sent").await;
    assert_eq!(sent.as_array().unwrap().len(), 3);
    assert_eq!(sent[0]["kind"], "subscribe");
    assert_eq!(sent[0]["data"]["phrase3"]["value"], "已发布");
    assert_eq!(sent[1]["kind"], "wecom");
    // msgid in the log is the decimal string of the u64.
    assert!(sent[0]["msgid"].as_str().unwrap().parse::<u64>().unwrap() > 1 << 53);

    post("/mock/reset", json!({})).await;
    assert_eq!(get("/mock/stats").await["sends"]["total"], 0);
    let resp = http
        .post(format!("{base}/mock/grants"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn mock_token_endpoints_follow_the_platform_rules() {
    let env = setup().await;
    let base = env.server.base_url();
    let http = http_client(Duration::from_secs(5));
    let classic = || {
        let url = format!(
            "{base}/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
        );
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let stable = |body: Value| {
        let req = http.post(format!("{base}{STABLE}")).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let send_with = |token: &str| {
        let url = format!("{base}{SEND}?access_token={token}");
        let req = http.post(url).json(&json!({
            "touser": OPENID, "template_id": TEMPLATE,
            "data": {"thing1": {"value": "党课"}, "time2": {"value": "09:00"}}
        }));
        async move {
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            v
        }
    };

    // Classic: no errcode on success, a new token each call, the previous one valid 300 s.
    let a = classic().await;
    assert!(a.get("errcode").is_none(), "{a}");
    assert_eq!(a["expires_in"], 7200);
    let b = classic().await;
    assert_ne!(a["access_token"], b["access_token"]);
    let a_token = a["access_token"].as_str().unwrap().to_owned();
    assert_eq!(send_with(&a_token).await["errcode"], 0);
    env.mock.advance(Duration::from_secs(300));
    let v = send_with(&a_token).await;
    assert_eq!(v["errcode"], 42001);
    assert!(v["errmsg"].as_str().unwrap().contains(" rid: "));

    // Stable: idempotent in normal mode; bad requests.
    let creds = json!({"grant_type": "client_credential", "appid": APPID, "secret": SECRET});
    let s1 = stable(creds.clone()).await;
    let s2 = stable(creds.clone()).await;
    assert_eq!(s1["access_token"], s2["access_token"]);
    let mut forced = creds.clone();
    forced["force_refresh"] = json!(true);
    let s3 = stable(forced).await;
    assert_ne!(s1["access_token"], s3["access_token"]);
    assert_eq!(
        send_with(s1["access_token"].as_str().unwrap()).await["errcode"],
        40001
    );
    assert_eq!(stable(json!({"appid": APPID})).await["errcode"], 40002);
    let mut wrong = creds.clone();
    wrong["secret"] = json!("nope");
    assert_eq!(stable(wrong).await["errcode"], 40125);
    let resp = http.post(format!("{base}{STABLE}")).send().await.unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["errcode"], 44002);

    // Missing token, and a garbage body with a valid token.
    assert_eq!(send_with("").await["errcode"], 41001);
    let t = s3["access_token"].as_str().unwrap();
    let resp = http
        .post(format!("{base}{SEND}?access_token={t}"))
        .body("{garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["errcode"], 47001);

    // WeCom gettoken carries errcode 0 on success; bad credentials.
    let wt: Value = http
        .get(format!(
            "{base}{GETTOKEN}?corpid={CORPID}&corpsecret={AGENT_SECRET}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wt["errcode"], 0);
    assert!(wt["access_token"].is_string());
    let bad: Value = http
        .get(format!("{base}{GETTOKEN}?corpid={CORPID}&corpsecret=nope"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bad["errcode"], 40001);
    assert!(bad["errmsg"].as_str().unwrap().contains("hint: ["));
}
