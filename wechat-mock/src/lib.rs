//! An in-process mock of `api.weixin.qq.com` and `qyapi.weixin.qq.com` (hyper 1, HTTP/1.1),
//! for tests and local runs. The paths of the two hosts don't overlap, so one server serves
//! both: point `WechatConfig::api_base` and `WecomConfig::api_base` at the same `base_url()`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fingertip_wechat_mock::MockWechat;
//! let mock = MockWechat::new("wx-appid", "secret");
//! mock.register_template("tpl-lesson", &["thing1", "time2"]);
//! mock.grant_subscription("openid-1", "tpl-lesson", 3);
//! mock.add_wecom_agent("ww-corp", 1000002, "corp-secret");
//! mock.add_wecom_users(1000002, &["ZhangSan", "lisi"]);
//! let server = mock.start(([127, 0, 0, 1], 0).into()).await?;
//! let code = server.state().issue_code("openid-1");
//! // point the clients at server.base_url(), log in with `code`, send ...
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! WeChat routes (always HTTP 200 with a JSON body; errmsg ends in a random trace id):
//! - `GET /sns/jscode2session`: codes are single use, expire after 300 s; 40029/40163/40226/45011.
//! - `GET /cgi-bin/token` (classic): a new token on each call, the previous one valid 300 s
//!   more. `POST /cgi-bin/stable_token`: the same token until 300 s before it expires, then a
//!   new one (the old one stays valid to its end); `force_refresh` at most 20 a day (45009) and
//!   30 s apart. Tokens are `mock-at-<n>`, `expires_in` 7200 s ([`MockWechat::set_token_ttl`]).
//! - `POST /cgi-bin/message/subscribe/send`: token (41001 missing, 40001 unknown, 42001
//!   expired) → template registered (40037) → openid known (40003) → a grant left (43101) →
//!   every registered keyword present and every value valid for its type prefix
//!   ([`fingertip_platform::keywords::validate`], 47003 `argument invalid! data.<key>.value invalid`) →
//!   page allowed, if pages were configured (41030) → one grant used, `msgid` a u64 > 2^53.
//!   Failed sends keep the grant.
//! - `GET /cgi-bin/gettoken` (WeCom, per agent, renews like the stable token) and
//!   `POST /cgi-bin/message/send`: token (41001/40014/42001), agentid known (40056) and the
//!   token's own (301002), msgtype known (40008), textcard fields present (44004); recipients
//!   split into the agent's users and `invaliduser` (lower-cased); all invalid → 81013;
//!   `msgid` a string. `@all` means every user of the agent.
//! - WeCom web OAuth (§11): `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code
//!   &scope=snsapi_base&state&agentid` (served on `open.weixin.qq.com` by WeCom: point the OAuth
//!   base at the mock too) redirects at once (302) to `redirect_uri` with `code` and `state`, for
//!   the viewer set by [`MockWechat::set_wecom_viewer`]; a bad request or nobody signed in gets a
//!   400 text page. `GET /cgi-bin/auth/getuserinfo?access_token&code` (and the older
//!   `/cgi-bin/user/getuserinfo`, with `UserId`/`OpenId`) answers `userid` for a member and
//!   `openid` for an outsider; codes are single use, valid 300 s, for their company only
//!   (41008 missing, 40029 otherwise).
//!
//! Control routes for curl users (each mirrors a `MockWechat` method):
//! `POST /mock/codes {"openid","blocked"?,"unionid"?}` → `{"code"}`,
//! `POST /mock/faults {"path","errcode","count"?}` (the next `count` calls to `path` answer
//! `errcode` before any other check),
//! `POST /mock/advance {"secs"}` (moves the mock's clock),
//! `POST /mock/templates {"template_id","keywords"}`,
//! `POST /mock/grants {"openid","template_id","count"?}` → `{"ok","grants"}`,
//! `POST /mock/openids {"openids"}`, `POST /mock/pages {"pages"}`,
//! `POST /mock/wecom/agents {"corpid","agentid","secret"}`,
//! `POST /mock/wecom/users {"agentid","userids"}`,
//! `POST /mock/wecom/viewer {"userid"} | {"openid"} | {}` (who opens WeCom links; `{}`: nobody),
//! `POST /mock/tokens/expire` (→ 42001), `POST /mock/tokens/invalidate` (→ 40001/40014),
//! `POST /mock/latency {"ms"}`, `POST /mock/reset` (zero the counters),
//! `GET /mock/calls` → `{"<path>": n}`,
//! `GET /mock/stats` → `{"calls","token_fetches","sends":{"total","per_user","peak_per_second"}}`,
//! `GET /mock/sent` → the accepted sends.
//! Anything else: HTTP 404 `{"errcode":-1,"errmsg":"mock: no such path"}`.

mod control;
mod oauth;
mod routes;
mod sends;
mod state;
mod tokens;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use oauth::{OAUTH_CODE_TTL, WecomViewer};
pub use sends::{SENT_LOG_CAP, SendStats, SentKind, SentMessage};
pub use state::{CODE_TTL, DEFAULT_MINUTE_LIMIT, MockWechat};
pub use tokens::{DEFAULT_TOKEN_TTL, FORCE_REFRESH_PER_DAY, FORCE_REFRESH_SPACING, TOKEN_GRACE};

/// How long shutdown waits for open connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A running mock. Stops when dropped or on [`MockServer::shutdown`]: no new connections,
/// open ones finish their current request, then close.
pub struct MockServer {
    addr: SocketAddr,
    state: MockWechat,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl MockWechat {
    /// Binds `bind` (port 0 picks a free port) and serves this state until the returned
    /// server is dropped or shut down. Must be called inside a tokio runtime.
    pub async fn start(&self, bind: SocketAddr) -> io::Result<MockServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, self.clone(), stop_rx));
        tracing::debug!(%addr, "wechat mock listening");
        Ok(MockServer {
            addr,
            state: self.clone(),
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl MockServer {
    /// The bound address (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (loopback when bound to an unspecified address): use it as
    /// `WechatConfig::api_base`.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// A handle to the served state, for the test knobs.
    pub fn state(&self) -> MockWechat {
        self.state.clone()
    }

    /// Stops accepting connections and waits (at most 2 s) for open ones to close.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Wakes the accept loop and every open connection.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

async fn accept_loop(listener: TcpListener, mock: MockWechat, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            // Reap finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_connection(stream, mock.clone(), stop.clone()));
                }
                Err(e) => {
                    // E.g. too many open files: back off instead of spinning.
                    tracing::warn!(error = %e, "wechat mock accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    // Connections were told to finish; give them a moment, then abort the rest (on drop).
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

async fn serve_connection(stream: TcpStream, mock: MockWechat, mut stop: watch::Receiver<bool>) {
    let service = service_fn(move |req| routes::handle(mock.clone(), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "wechat mock connection ended with an error");
    }
}
