//! The login port: exchanging a mini-program's `wx.login` code for the member's WeChat identity.

/// How a refused login should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The user's input (e.g. the login code) is bad: answer 400 and let the client retry
    /// with a fresh `wx.login` code.
    InvalidInput,
    /// The platform is throttling (45011): answer 429, retry after about a minute.
    RateLimited,
    /// The platform is busy or unreachable: answer 503, retry later.
    Unavailable,
    /// The platform rejected this server's configuration (appid, secret, permissions) or
    /// answered something unexpected: answer 502, an operator must look.
    Misconfigured,
}

/// Who the code belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginIdentity {
    /// The user's id within this mini-program.
    pub openid: String,
    /// Present only when the mini-program is bound to an Open Platform account.
    pub unionid: Option<String>,
}

/// A login the platform did not complete. The message carries no secret and no URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoginFailure {
    pub class: ErrorClass,
    /// The platform's `errcode`, when it answered with one.
    pub errcode: Option<i64>,
    pub message: String,
}

#[async_trait::async_trait]
pub trait WechatLogin: Send + Sync + 'static {
    /// `jscode2session`: the identity behind a `wx.login` code (each code works once).
    async fn identify(&self, code: &str) -> Result<LoginIdentity, LoginFailure>;
}
