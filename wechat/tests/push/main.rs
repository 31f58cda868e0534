//! Access tokens, subscribe sends and WeCom app messages against the in-process mock, over
//! real HTTP on 127.0.0.1. This file holds the shared setup; each concern has its own module.

// A panic is how a test reports failure; the numbers a test counts are small.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod mock_http;
mod subscribe;
mod tokens;
mod wecom;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use fingertip_platform::Disposition;
use fingertip_platform::keywords::{KeywordType, fit};
use fingertip_wechat::{
    MemoryTokenStore, SubscribeMessage, TextCard, TokenStore, WechatClient, WechatConfig,
    WechatError, WecomClient, WecomConfig, WecomIdentity, http_client,
};
use fingertip_wechat_mock::{MockServer, MockWechat, SentKind, WecomViewer};
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
            oauth_base: server.base_url(),
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
