//! The WeChat API client (currently: mini-program login).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use reqwest::Url;
use serde::Deserialize;

use crate::config::WechatConfig;
use crate::envelope::Envelope;
use crate::error::WechatError;

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

/// Calls WeChat as one mini-program. Cheap to clone (shares the connection pool and config).
#[derive(Clone, Debug)]
pub struct WechatClient {
    http: reqwest::Client,
    cfg: Arc<WechatConfig>,
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

impl WechatClient {
    pub fn new(http: reqwest::Client, cfg: WechatConfig) -> Self {
        Self {
            http,
            cfg: Arc::new(cfg),
        }
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

    /// `{api_base}{path}`, ignoring a trailing slash on `api_base`.
    fn url(&self, path: &str) -> Result<Url, WechatError> {
        let base = self.cfg.api_base.trim_end_matches('/');
        Url::parse(&format!("{base}{path}")).map_err(|e| WechatError::InvalidConfig {
            reason: e.to_string(),
        })
    }

    /// Sends a GET and returns the body of a 2xx answer.
    async fn get(&self, url: Url) -> Result<Bytes, WechatError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(WechatError::transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(WechatError::HttpStatus {
                status: status.as_u16(),
            });
        }
        resp.bytes().await.map_err(WechatError::transport)
    }
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
