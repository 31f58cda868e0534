//! The WeChat mini-program client: login, access token, subscribe messages.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::config::WechatConfig;
use crate::envelope::Envelope;
use crate::error::WechatError;
use crate::subscribe::{SubscribeMessage, SubscribeWire};
use crate::token::{Fetched, TokenCache, TokenStore, UnixClock};

/// Longest time spent establishing a TCP connection, whatever the total timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the HTTP client to pass to [`WechatClient::new`]: total request timeout `timeout`,
/// connect timeout `min(timeout, 5 s)`.
///
/// reqwest is built with `rustls-no-provider`, so the binary must install a crypto provider
/// first (`rustls::crypto::ring::default_provider().install_default()`); otherwise reqwest
/// panics while building the client.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
        .user_agent(concat!("fingertip-wechat/", env!("CARGO_PKG_VERSION")));
    match builder.build() {
        Ok(client) => client,
        Err(e) => {
            // Only fails if the TLS backend cannot start; the default client reports the same.
            tracing::error!(error = %e, "could not build the WeChat HTTP client; using defaults");
            reqwest::Client::new()
        }
    }
}

/// Calls WeChat as one mini-program. Cheap to clone: clones share the connection pool, the
/// config and the token cache.
#[derive(Clone)]
pub struct WechatClient {
    http: reqwest::Client,
    cfg: Arc<WechatConfig>,
    tokens: TokenCache,
}

impl fmt::Debug for WechatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatClient")
            .field("cfg", &self.cfg)
            .field("token_key", &self.tokens.key)
            .finish_non_exhaustive()
    }
}

/// The result of a successful `code2Session`. `Debug` redacts the session_key.
#[derive(Clone, PartialEq, Eq)]
pub struct Code2Session {
    /// The user's id within this mini-program.
    pub openid: String,
    /// Present only when the mini-program is bound to an Open Platform account.
    pub unionid: Option<String>,
    session_key: String,
}

impl Code2Session {
    /// Key for decrypting `wx.getUserInfo`/phone payloads. Never send it to the client.
    /// Empty if WeChat did not return one.
    pub fn session_key(&self) -> &str {
        &self.session_key
    }
}

impl fmt::Debug for Code2Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Code2Session")
            .field("openid", &self.openid)
            .field("unionid", &self.unionid)
            .field("session_key", &"***")
            .finish()
    }
}

/// The fields of a jscode2session body; all optional so that error bodies decode too.
#[derive(Deserialize)]
struct RawCode2Session {
    openid: Option<String>,
    unionid: Option<String>,
    session_key: Option<String>,
}

/// `/cgi-bin/stable_token` and `/cgi-bin/gettoken` bodies (error bodies decode too).
#[derive(Deserialize)]
pub(crate) struct RawToken {
    access_token: Option<String>,
    expires_in: Option<i64>,
}

impl RawToken {
    pub(crate) fn into_fetched(self) -> Result<Fetched, WechatError> {
        let value =
            self.access_token
                .filter(|t| !t.is_empty())
                .ok_or_else(|| WechatError::Decode {
                    reason: "token success body has no access_token".into(),
                })?;
        let expires_in = self
            .expires_in
            .filter(|&e| e > 0)
            .ok_or_else(|| WechatError::Decode {
                reason: "token success body has no positive expires_in".into(),
            })?;
        Ok(Fetched { value, expires_in })
    }
}

#[derive(Serialize)]
struct StableTokenRequest<'a> {
    grant_type: &'static str,
    appid: &'a str,
    secret: &'a str,
    force_refresh: bool,
}

#[derive(Deserialize)]
struct RawMsgid {
    msgid: Option<u64>,
}

impl WechatClient {
    /// A client with its own in-memory token cache and the system clock.
    pub fn new(http: reqwest::Client, cfg: WechatConfig) -> Self {
        let key = format!("wechat:stable_token:{}", cfg.appid);
        Self {
            http,
            cfg: Arc::new(cfg),
            tokens: TokenCache::new(key),
        }
    }

    /// Keeps the access token in `store` (e.g. Redis, shared by every process) instead of
    /// this client's own memory.
    pub fn with_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.tokens.store = store;
        self
    }

    /// Reads "now" (unix seconds) from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: UnixClock) -> Self {
        self.tokens.clock = clock;
        self
    }

    /// The token store key: `wechat:stable_token:{appid}`.
    pub fn token_key(&self) -> &str {
        &self.tokens.key
    }

    /// The configuration this client calls WeChat with.
    pub fn config(&self) -> &WechatConfig {
        &self.cfg
    }

    /// Exchanges a `wx.login` code for the user's openid (`GET /sns/jscode2session`).
    /// Codes are single use and expire after about 5 minutes.
    pub async fn code2session(&self, code: &str) -> Result<Code2Session, WechatError> {
        if code.trim().is_empty() {
            return Err(WechatError::EmptyCode);
        }
        let mut url = self.url("/sns/jscode2session")?;
        url.query_pairs_mut()
            .append_pair("appid", &self.cfg.appid)
            .append_pair("secret", &self.cfg.secret)
            .append_pair("js_code", code)
            .append_pair("grant_type", "authorization_code");

        let body = self.get(url).await?;
        let raw = Envelope::<RawCode2Session>::parse(&body)?.into_result()?;
        let openid = raw
            .openid
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WechatError::Decode {
                reason: "jscode2session success body has no openid".into(),
            })?;
        let session_key = raw.session_key.unwrap_or_default();
        if session_key.is_empty() {
            tracing::warn!("jscode2session answered without a session_key");
        }
        Ok(Code2Session {
            openid,
            unionid: raw.unionid.filter(|s| !s.is_empty()),
            session_key,
        })
    }

    /// A valid access token: the cached one, or a fresh one from `POST /cgi-bin/stable_token`
    /// (normal mode, never `force_refresh`) fetched by the single refresher. See
    /// [`crate::token`] for the refresh rule.
    pub async fn access_token(&self) -> Result<String, WechatError> {
        self.tokens.token(&|| self.fetch_stable_token()).await
    }

    /// Sends a subscribe message (`POST /cgi-bin/message/subscribe/send`) and returns WeChat's
    /// msgid. A rejected token (40001/40014/42001) is refreshed and the send retried once.
    ///
    /// Each success uses up one of the user's grants for the template; with none left WeChat
    /// answers 43101 ([`Disposition::NoConsent`](fingertip_platform::Disposition::NoConsent)).
    /// Values must fit their keyword types: pass them through `fingertip_platform::keywords::fit`.
    pub async fn send_subscribe(&self, msg: &SubscribeMessage) -> Result<u64, WechatError> {
        if msg.touser.trim().is_empty() {
            return Err(WechatError::InvalidRequest {
                reason: "touser is empty".into(),
            });
        }
        if msg.template_id.trim().is_empty() {
            return Err(WechatError::InvalidRequest {
                reason: "template_id is empty".into(),
            });
        }
        let wire = SubscribeWire::from(msg);
        let url = self.url("/cgi-bin/message/subscribe/send")?;
        self.tokens
            .call_with_token(&|| self.fetch_stable_token(), |token| {
                let mut url = url.clone();
                url.query_pairs_mut().append_pair("access_token", &token);
                let wire = &wire;
                async move {
                    let body = post_json(&self.http, url, wire).await?;
                    let raw = Envelope::<RawMsgid>::parse(&body)?.into_result()?;
                    raw.msgid.ok_or_else(|| WechatError::Decode {
                        reason: "subscribe send success body has no msgid".into(),
                    })
                }
            })
            .await
    }

    async fn fetch_stable_token(&self) -> Result<Fetched, WechatError> {
        let url = self.url("/cgi-bin/stable_token")?;
        let req = StableTokenRequest {
            grant_type: "client_credential",
            appid: &self.cfg.appid,
            secret: &self.cfg.secret,
            force_refresh: false,
        };
        let body = post_json(&self.http, url, &req).await?;
        Envelope::<RawToken>::parse(&body)?
            .into_result()?
            .into_fetched()
    }

    /// `{api_base}{path}`, ignoring a trailing slash on `api_base`.
    fn url(&self, path: &str) -> Result<Url, WechatError> {
        join_url(&self.cfg.api_base, path)
    }

    /// Sends a GET and returns the body of a 2xx answer.
    async fn get(&self, url: Url) -> Result<Bytes, WechatError> {
        get(&self.http, url).await
    }
}

/// `{base}{path}`, ignoring a trailing slash on `base`.
pub(crate) fn join_url(base: &str, path: &str) -> Result<Url, WechatError> {
    let base = base.trim_end_matches('/');
    Url::parse(&format!("{base}{path}")).map_err(|e| WechatError::InvalidConfig {
        reason: e.to_string(),
    })
}

/// Sends a GET and returns the body of a 2xx answer.
pub(crate) async fn get(http: &reqwest::Client, url: Url) -> Result<Bytes, WechatError> {
    let resp = http.get(url).send().await.map_err(WechatError::transport)?;
    body_of(resp).await
}

/// POSTs `body` as JSON and returns the body of a 2xx answer.
pub(crate) async fn post_json<B: Serialize + ?Sized>(
    http: &reqwest::Client,
    url: Url,
    body: &B,
) -> Result<Bytes, WechatError> {
    let resp = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(WechatError::transport)?;
    body_of(resp).await
}

async fn body_of(resp: reqwest::Response) -> Result<Bytes, WechatError> {
    let status = resp.status();
    if !status.is_success() {
        return Err(WechatError::HttpStatus {
            status: status.as_u16(),
        });
    }
    resp.bytes().await.map_err(WechatError::transport)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code2session_debug_redacts_session_key() {
        let s = Code2Session {
            openid: "o1".into(),
            unionid: None,
            session_key: "very-secret-key".into(),
        };
        let dbg = format!("{s:?}");
        assert!(dbg.contains("o1"));
        assert!(!dbg.contains("very-secret-key"));
        assert_eq!(s.session_key(), "very-secret-key");
    }
}
