//! The push port: what the core's sender needs from a messaging platform. `fingertip-wechat`
//! implements it over the WeChat and WeCom clients; keeping the port narrow lets the sender's
//! rules (credits, retries, dead letters, budgets) be read without the HTTP details.

use std::collections::BTreeMap;

/// A WeChat mini-program subscribe message to one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatPush {
    pub openid: String,
    pub template_id: String,
    /// The mini-program page to open, with its query.
    pub page: Option<String>,
    /// Keyword → value, already fitted to each keyword type's rule.
    pub data: BTreeMap<String, String>,
}

/// A WeCom `textcard` to up to 1,000 members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WecomPush {
    pub userids: Vec<String>,
    pub title: String,
    pub description: String,
    pub url: String,
}

/// What the platform's answer means for the sender: the one type a platform outcome has on its
/// way from the client's error to a delivery's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Busy, throttled, unreachable: try again later with backoff.
    Retry,
    /// The daily quota is used up: try again after the platform's daily reset.
    RetryTomorrow,
    /// The member has no subscription left for this template (43101).
    NoConsent,
    /// Retrying cannot help (bad openid, bad template, bad value, no permission).
    Permanent,
    /// The request left but no answer came back (timeout, broken reply, gateway error): the
    /// platform may have accepted it, so it must not be sent again.
    InDoubt,
    /// Nothing was sent (no access token could be had): try again soon; not an attempt.
    NotSent,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PushFailure {
    pub disposition: Disposition,
    /// The platform's `errcode`, when it answered with one.
    pub errcode: Option<i64>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WecomAccepted {
    pub msgid: String,
    /// Recipients WeCom refused (lower-cased, as WeCom returns them).
    pub invalid_users: Vec<String>,
}

#[async_trait::async_trait]
pub trait PushPlatform: Send + Sync + 'static {
    /// `None` when WeChat is not configured.
    fn wechat_app(&self) -> Option<String>;
    /// `None` when WeCom is not configured.
    fn wecom_app(&self) -> Option<String>;
    /// Sends one subscribe message; the platform's msgid on success.
    async fn send_wechat(&self, push: &WechatPush) -> Result<String, PushFailure>;
    async fn send_wecom(&self, push: &WecomPush) -> Result<WecomAccepted, PushFailure>;
}
