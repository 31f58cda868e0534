//! The WeCom (企业微信) app-message client: `gettoken` and textcard sends (WECHAT.md §2.3, §4).

use std::fmt;
use std::sync::Arc;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::client::{RawToken, get, join_url, post_json};
use crate::envelope::Envelope;
use crate::error::WechatError;
use crate::token::{Fetched, TokenCache, TokenStore, UnixClock};

/// Most recipients of one app message.
pub const MAX_RECIPIENTS: usize = 1000;
/// textcard `title` limit in bytes (WeCom truncates longer ones).
pub const TITLE_MAX_BYTES: usize = 128;
/// textcard `description` limit in bytes.
pub const DESCRIPTION_MAX_BYTES: usize = 512;
/// textcard `url` limit in bytes.
pub const URL_MAX_BYTES: usize = 2048;
/// textcard `btntxt` limit in characters.
pub const BTNTXT_MAX_CHARS: usize = 4;

/// Where and as which app to call WeCom. `Debug` redacts `secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct WecomConfig {
    /// `https://qyapi.weixin.qq.com` in production, the mock's `base_url()` in tests.
    /// A trailing slash is ignored.
    pub api_base: String,
    pub corpid: String,
    /// The app's (agent's) secret. Only ever sent to WeCom.
    pub secret: String,
    /// The app's id; each app has its own secret and token.
    pub agentid: i64,
    /// Where WeCom's web sign-in page lives (WECHAT.md §11): `https://open.weixin.qq.com` in
    /// production, the mock's `base_url()` in tests.
    pub oauth_base: String,
}

impl fmt::Debug for WecomConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WecomConfig")
            .field("api_base", &self.api_base)
            .field("corpid", &self.corpid)
            .field("secret", &"***")
            .field("agentid", &self.agentid)
            .field("oauth_base", &self.oauth_base)
            .finish()
    }
}

/// A textcard app message. Over-long `title`/`description` are cut to WeCom's byte limits
/// (ending in `…`), `btntxt` to 4 characters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextCard {
    /// Member userids (case-insensitive), at most 1000; `"@all"` for everyone the app sees.
    pub touser: Vec<String>,
    pub title: String,
    /// May use `<div class="gray|normal|highlight">`.
    pub description: String,
    /// Opened on tap; required, http(s), at most 2048 bytes.
    pub url: String,
    /// Button text (WeCom's default: 详情).
    pub btntxt: Option<String>,
}

/// A send WeCom accepted, possibly for only some of the recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WecomSendResult {
    /// WeCom's message id (for recall).
    pub msgid: String,
    /// Recipients WeCom did not deliver to (unknown or outside the app's visible range),
    /// lower-cased as WeCom returns them.
    pub invalid_users: Vec<String>,
}

/// Calls WeCom as one app. Cheap to clone: clones share the pool, config and token cache.
#[derive(Clone)]
pub struct WecomClient {
    http: reqwest::Client,
    cfg: Arc<WecomConfig>,
    tokens: TokenCache,
}

impl fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WecomClient")
            .field("cfg", &self.cfg)
            .field("token_key", &self.tokens.key)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct TextCardRequest<'a> {
    touser: String,
    msgtype: &'static str,
    agentid: i64,
    textcard: TextCardBody<'a>,
}

#[derive(Serialize)]
struct TextCardBody<'a> {
    title: String,
    description: String,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    btntxt: Option<String>,
}

#[derive(Deserialize)]
struct RawSend {
    msgid: Option<StringOrNumber>,
    invaliduser: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrNumber {
    String(String),
    Number(i64),
}

impl WecomClient {
    /// A client with its own in-memory token cache and the system clock.
    pub fn new(http: reqwest::Client, cfg: WecomConfig) -> Self {
        let key = format!("wecom:token:{}:{}", cfg.corpid, cfg.agentid);
        Self {
            http,
            cfg: Arc::new(cfg),
            tokens: TokenCache::new(key),
        }
    }

    /// Keeps the access token in `store` instead of this client's own memory.
    pub fn with_token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.tokens.store = store;
        self
    }

    /// Reads "now" (unix seconds) from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: UnixClock) -> Self {
        self.tokens.clock = clock;
        self
    }

    /// The token store key: `wecom:token:{corpid}:{agentid}`.
    pub fn token_key(&self) -> &str {
        &self.tokens.key
    }

    /// The configuration this client calls WeCom with.
    pub fn config(&self) -> &WecomConfig {
        &self.cfg
    }

    pub(crate) fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A valid access token for this app: cached, or fetched with `GET /cgi-bin/gettoken` by
    /// the single refresher (same rule as [`crate::WechatClient::access_token`]).
    pub async fn access_token(&self) -> Result<String, WechatError> {
        self.tokens.token(&|| self.fetch_token()).await
    }

    /// Sends a textcard (`POST /cgi-bin/message/send`). Succeeds when at least one recipient
    /// is valid; the others come back in `invalid_users`. All invalid: errcode 81013.
    /// A rejected token (40001/40014/42001) is refreshed and the send retried once.
    pub async fn send_textcard(&self, card: &TextCard) -> Result<WecomSendResult, WechatError> {
        let req = self.textcard_request(card)?;
        let url = join_url(&self.cfg.api_base, "/cgi-bin/message/send")?;
        self.tokens
            .call_with_token(&|| self.fetch_token(), |token| {
                let mut url = url.clone();
                url.query_pairs_mut().append_pair("access_token", &token);
                let req = &req;
                async move {
                    let body = post_json(&self.http, url, req).await?;
                    let raw = Envelope::<RawSend>::parse(&body)?.into_result()?;
                    let msgid = match raw.msgid {
                        Some(StringOrNumber::String(s)) if !s.is_empty() => s,
                        Some(StringOrNumber::Number(n)) => n.to_string(),
                        _ => {
                            return Err(WechatError::Decode {
                                reason: "message send success body has no msgid".into(),
                            });
                        }
                    };
                    let invalid_users = raw
                        .invaliduser
                        .unwrap_or_default()
                        .split('|')
                        .filter(|u| !u.is_empty())
                        .map(str::to_owned)
                        .collect();
                    Ok(WecomSendResult {
                        msgid,
                        invalid_users,
                    })
                }
            })
            .await
    }

    fn textcard_request<'a>(&self, card: &'a TextCard) -> Result<TextCardRequest<'a>, WechatError> {
        let invalid = |reason: String| Err(WechatError::InvalidRequest { reason });
        if card.touser.is_empty() {
            return invalid("touser is empty".into());
        }
        if card.touser.len() > MAX_RECIPIENTS {
            return invalid(format!(
                "{} recipients; WeCom takes at most {MAX_RECIPIENTS} per message",
                card.touser.len()
            ));
        }
        if let Some(bad) = card
            .touser
            .iter()
            .find(|u| u.trim().is_empty() || u.contains('|'))
        {
            return invalid(format!("userid {bad:?} is empty or contains '|'"));
        }
        if card.title.trim().is_empty() {
            return invalid("title is empty".into());
        }
        if card.description.trim().is_empty() {
            return invalid("description is empty".into());
        }
        if card.url.is_empty() || card.url.len() > URL_MAX_BYTES {
            return invalid(format!("url must be 1 to {URL_MAX_BYTES} bytes"));
        }
        Ok(TextCardRequest {
            touser: card.touser.join("|"),
            msgtype: "textcard",
            agentid: self.cfg.agentid,
            textcard: TextCardBody {
                title: truncate_bytes(&card.title, TITLE_MAX_BYTES),
                description: truncate_bytes(&card.description, DESCRIPTION_MAX_BYTES),
                url: &card.url,
                btntxt: card
                    .btntxt
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(|b| b.chars().take(BTNTXT_MAX_CHARS).collect()),
            },
        })
    }

    pub(crate) async fn fetch_token(&self) -> Result<Fetched, WechatError> {
        let mut url: Url = join_url(&self.cfg.api_base, "/cgi-bin/gettoken")?;
        url.query_pairs_mut()
            .append_pair("corpid", &self.cfg.corpid)
            .append_pair("corpsecret", &self.cfg.secret);
        let body = get(&self.http, url).await?;
        Envelope::<RawToken>::parse(&body)?
            .into_result()?
            .into_fetched()
    }
}

/// `s` cut to at most `max` bytes on a character boundary, ending in `…` when cut.
pub fn truncate_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    const ELLIPSIS: &str = "…";
    let mut end = max.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> WecomClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        WecomClient::new(
            reqwest::Client::new(),
            WecomConfig {
                api_base: "http://127.0.0.1:1".into(),
                corpid: "ww1".into(),
                secret: "corp-secret-value".into(),
                agentid: 1000002,
                oauth_base: "http://127.0.0.1:1".into(),
            },
        )
    }

    #[test]
    fn debug_redacts_secret() {
        let c = client();
        let dbg = format!("{c:?} {:?}", c.config());
        assert!(dbg.contains("ww1"));
        assert!(!dbg.contains("corp-secret-value"));
        assert_eq!(c.token_key(), "wecom:token:ww1:1000002");
    }

    #[test]
    fn truncation_respects_bytes_and_chars() {
        assert_eq!(truncate_bytes("短", 128), "短");
        let long = "党".repeat(100); // 300 bytes
        let t = truncate_bytes(&long, 128);
        assert!(t.len() <= 128, "{}", t.len());
        assert!(t.ends_with('…'));
        assert_eq!(t, format!("{}…", "党".repeat(41)));
        let ascii = "a".repeat(600);
        assert_eq!(truncate_bytes(&ascii, 512).len(), 512);
    }

    #[test]
    fn request_checks_and_cuts() {
        let c = client();
        let mut card = TextCard {
            touser: vec!["Zhang".into(), "li".into()],
            title: "标题".repeat(50),
            description: "内容".repeat(200),
            url: "https://example.com/l/1".into(),
            btntxt: Some("立即学习吧".into()),
        };
        let req = c.textcard_request(&card).unwrap();
        assert_eq!(req.touser, "Zhang|li");
        assert!(req.textcard.title.len() <= TITLE_MAX_BYTES);
        assert!(req.textcard.description.len() <= DESCRIPTION_MAX_BYTES);
        assert_eq!(req.textcard.btntxt.as_deref(), Some("立即学习"));
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["msgtype"], "textcard");
        assert_eq!(v["agentid"], 1000002);

        card.touser = (0..1001).map(|i| format!("u{i}")).collect();
        let err = c.textcard_request(&card).err().unwrap();
        assert!(matches!(err, WechatError::InvalidRequest { .. }));
        card.touser = (0..1000).map(|i| format!("u{i}")).collect();
        assert!(c.textcard_request(&card).is_ok());
        card.touser = vec!["a|b".into()];
        assert!(c.textcard_request(&card).is_err());
        card.touser = vec![];
        assert!(c.textcard_request(&card).is_err());
    }
}
