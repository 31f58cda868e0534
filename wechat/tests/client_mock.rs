//! WechatClient against the in-process mock, over real HTTP on 127.0.0.1.

// A panic is how a test reports failure; the numbers a test counts are small.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use fingertip_platform::ErrorClass;
use fingertip_wechat::{WechatClient, WechatConfig, WechatError, http_client};
use fingertip_wechat_mock::{MockServer, MockWechat};
use serde_json::{Value, json};

const APPID: &str = "wx-test-appid";
const SECRET: &str = "test-secret-do-not-log";
const JS: &str = "/sns/jscode2session";

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn localhost0() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn client(api_base: &str, appid: &str, secret: &str) -> WechatClient {
    WechatClient::new(
        http_client(Duration::from_secs(5)),
        WechatConfig {
            api_base: api_base.to_owned(),
            appid: appid.to_owned(),
            secret: secret.to_owned(),
        },
    )
}

async fn setup() -> (MockServer, WechatClient) {
    install_provider();
    let server = MockWechat::new(APPID, SECRET)
        .start(localhost0())
        .await
        .unwrap();
    let client = client(&server.base_url(), APPID, SECRET);
    (server, client)
}

/// Asserts an API error with this errcode and class, and that no secret leaks into it.
fn assert_api_err(err: &WechatError, errcode: i64, class: ErrorClass) {
    assert_eq!(err.errcode(), Some(errcode), "{err:?}");
    assert_eq!(err.class(), class, "{err:?}");
    assert_no_secret(err);
}

fn assert_no_secret(err: &WechatError) {
    let text = format!("{err} | {err:?}");
    assert!(!text.contains(SECRET), "secret leaked: {text}");
}

#[tokio::test]
async fn fresh_code_logs_in_and_returns_openid() {
    let (server, client) = setup().await;
    let mock = server.state();
    let s = client
        .code2session(&mock.issue_code("openid-1"))
        .await
        .unwrap();
    assert_eq!(s.openid, "openid-1");
    assert_eq!(s.unionid, None);
    assert!(!s.session_key().is_empty());
    assert!(!format!("{s:?}").contains(s.session_key()));

    mock.set_unionid("openid-2", "union-2");
    let s = client
        .code2session(&mock.issue_code("openid-2"))
        .await
        .unwrap();
    assert_eq!(s.unionid.as_deref(), Some("union-2"));
    assert_eq!(mock.calls(JS), 2);
}

#[tokio::test]
async fn reused_code_is_invalid_input() {
    let (server, client) = setup().await;
    let code = server.state().issue_code("openid-1");
    client.code2session(&code).await.unwrap();
    let err = client.code2session(&code).await.unwrap_err();
    assert_api_err(&err, 40163, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn unknown_code_is_invalid_input() {
    let (_server, client) = setup().await;
    let err = client.code2session("no-such-code").await.unwrap_err();
    assert_api_err(&err, 40029, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn expired_code_is_invalid_input() {
    let (server, client) = setup().await;
    let mock = server.state();
    let code = mock.issue_code("openid-1");
    mock.advance(Duration::from_secs(301));
    let err = client.code2session(&code).await.unwrap_err();
    assert_api_err(&err, 40029, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn blocked_code_is_invalid_input() {
    let (server, client) = setup().await;
    let code = server.state().issue_blocked_code("openid-1");
    let err = client.code2session(&code).await.unwrap_err();
    assert_api_err(&err, 40226, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn empty_code_is_invalid_input_without_a_call() {
    let (server, client) = setup().await;
    let err = client.code2session("  ").await.unwrap_err();
    assert!(matches!(err, WechatError::EmptyCode));
    assert_eq!(err.class(), ErrorClass::InvalidInput);
    assert_eq!(server.state().calls(JS), 0);
}

#[tokio::test]
async fn busy_fault_is_unavailable_then_recovers() {
    let (server, client) = setup().await;
    let mock = server.state();
    mock.fail_next(JS, -1, 1);
    let err = client
        .code2session(&mock.issue_code("openid-1"))
        .await
        .unwrap_err();
    assert_api_err(&err, -1, ErrorClass::Unavailable);
    let s = client
        .code2session(&mock.issue_code("openid-1"))
        .await
        .unwrap();
    assert_eq!(s.openid, "openid-1");
    assert_eq!(mock.calls(JS), 2);
}

#[tokio::test]
async fn rate_limit_fault_is_rate_limited() {
    let (server, client) = setup().await;
    let mock = server.state();
    mock.fail_next(JS, 45011, 1);
    let err = client
        .code2session(&mock.issue_code("openid-1"))
        .await
        .unwrap_err();
    assert_api_err(&err, 45011, ErrorClass::RateLimited);
}

#[tokio::test]
async fn per_openid_minute_limit_answers_45011() {
    let (server, client) = setup().await;
    let mock = server.state();
    mock.set_minute_limit(2);
    for _ in 0..2 {
        client.code2session(&mock.issue_code("busy")).await.unwrap();
    }
    let err = client
        .code2session(&mock.issue_code("busy"))
        .await
        .unwrap_err();
    assert_api_err(&err, 45011, ErrorClass::RateLimited);
    // Other users are not affected; the next minute the user may log in again.
    client.code2session(&mock.issue_code("calm")).await.unwrap();
    mock.advance(Duration::from_secs(60));
    client.code2session(&mock.issue_code("busy")).await.unwrap();
}

#[tokio::test]
async fn default_minute_limit_is_100() {
    let (server, client) = setup().await;
    let mock = server.state();
    for _ in 0..100 {
        client.code2session(&mock.issue_code("o")).await.unwrap();
    }
    let err = client
        .code2session(&mock.issue_code("o"))
        .await
        .unwrap_err();
    assert_api_err(&err, 45011, ErrorClass::RateLimited);
}

#[tokio::test]
async fn wrong_credentials_are_misconfigured() {
    let (server, _client) = setup().await;
    let mock = server.state();
    let bad_secret = client(&server.base_url(), APPID, "wrong-secret");
    let err = bad_secret
        .code2session(&mock.issue_code("o"))
        .await
        .unwrap_err();
    assert_api_err(&err, 40125, ErrorClass::Misconfigured);
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));

    let bad_appid = client(&server.base_url(), "wx-other", SECRET);
    let err = bad_appid
        .code2session(&mock.issue_code("o"))
        .await
        .unwrap_err();
    assert_api_err(&err, 40013, ErrorClass::Misconfigured);
}

#[tokio::test]
async fn closed_port_is_unavailable() {
    install_provider();
    let port = {
        let l = TcpListener::bind(localhost0()).unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client(&format!("http://127.0.0.1:{port}"), APPID, SECRET);
    let err = c.code2session("any-code").await.unwrap_err();
    assert!(matches!(err, WechatError::Transport { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unavailable);
    assert_eq!(err.errcode(), None);
    assert_no_secret(&err);
}

#[tokio::test]
async fn slow_answer_times_out_as_unavailable() {
    let (server, _client) = setup().await;
    let mock = server.state();
    mock.set_latency(Duration::from_millis(500));
    let impatient = WechatClient::new(
        http_client(Duration::from_millis(100)),
        WechatConfig {
            api_base: server.base_url(),
            appid: APPID.into(),
            secret: SECRET.into(),
        },
    );
    let err = impatient
        .code2session(&mock.issue_code("o"))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable, "{err:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn success_without_openid_is_a_decode_error() {
    let (server, client) = setup().await;
    let mock = server.state();
    // errcode 0 injected: `{"errcode":0,"errmsg":"ok ..."}` with no openid.
    mock.fail_next(JS, 0, 1);
    let err = client
        .code2session(&mock.issue_code("o"))
        .await
        .unwrap_err();
    assert!(matches!(err, WechatError::Decode { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Unavailable);
}

#[tokio::test]
async fn trailing_slash_in_api_base_is_ignored() {
    let (server, _client) = setup().await;
    let c = client(&format!("{}/", server.base_url()), APPID, SECRET);
    let s = c
        .code2session(&server.state().issue_code("o"))
        .await
        .unwrap();
    assert_eq!(s.openid, "o");
}

#[tokio::test]
async fn shut_down_mock_is_unavailable() {
    let (server, client) = setup().await;
    let code = server.state().issue_code("o");
    server.shutdown().await;
    let err = client.code2session(&code).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable, "{err:?}");
}

#[tokio::test]
async fn shutdown_closes_pooled_connections() {
    let (server, client) = setup().await;
    let mock = server.state();
    // Leaves a keep-alive connection in the client's pool.
    client.code2session(&mock.issue_code("o")).await.unwrap();
    let code = mock.issue_code("o");
    server.shutdown().await;
    let err = client.code2session(&code).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unavailable, "{err:?}");
    assert_eq!(mock.calls(JS), 1);
}

#[tokio::test]
async fn http_knobs_drive_the_mock() {
    let (server, client) = setup().await;
    let base = server.base_url();
    let http = http_client(Duration::from_secs(5));

    let resp = http
        .post(format!("{base}/mock/codes"))
        .json(&json!({"openid": "curl-user"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let code = resp.json::<Value>().await.unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client.code2session(&code).await.unwrap().openid,
        "curl-user"
    );

    let blocked: Value = http
        .post(format!("{base}/mock/codes"))
        .json(&json!({"openid": "curl-user", "blocked": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let err = client
        .code2session(blocked["code"].as_str().unwrap())
        .await
        .unwrap_err();
    assert_api_err(&err, 40226, ErrorClass::InvalidInput);

    let ok: Value = http
        .post(format!("{base}/mock/faults"))
        .json(&json!({"path": JS, "errcode": -1, "count": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ok, json!({"ok": true}));
    for _ in 0..2 {
        let err = client.code2session("whatever").await.unwrap_err();
        assert_eq!(err.errcode(), Some(-1));
    }

    let calls: Value = http
        .get(format!("{base}/mock/calls"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls, json!({JS: 4}));

    let resp = http.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"errcode": -1, "errmsg": "mock: no such path"})
    );
}

#[tokio::test]
async fn mock_rejects_bad_input_without_panicking() {
    let (server, _client) = setup().await;
    let base = server.base_url();
    let http = http_client(Duration::from_secs(5));

    let get = |q: &str| {
        let url = format!("{base}{JS}?{q}");
        let http = http.clone();
        async move {
            let resp = http.get(url).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let errcode = |v: &Value| v["errcode"].as_i64().unwrap();

    assert_eq!(errcode(&get("%zz&&=&%").await), 41002);
    assert_eq!(errcode(&get(&format!("appid={APPID}")).await), 41004);
    let creds = format!("appid={APPID}&secret={SECRET}");
    assert_eq!(errcode(&get(&creds).await), 40002);
    let body = get(&format!("{creds}&grant_type=client_credential&js_code=x")).await;
    assert_eq!(errcode(&body), 40002);
    let body = get(&format!("{creds}&grant_type=authorization_code")).await;
    assert_eq!(errcode(&body), 41008);

    // errmsg carries a random rid, so two identical errors differ.
    let a = get(&creds).await;
    let b = get(&creds).await;
    assert!(a["errmsg"].as_str().unwrap().contains(" rid: "));
    assert_ne!(a["errmsg"], b["errmsg"]);

    let resp = http
        .post(format!("{base}/mock/codes"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["errcode"], 47001);

    let resp = http
        .post(format!("{base}/mock/faults"))
        .body(vec![b'x'; 100 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
