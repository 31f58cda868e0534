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

/// Who opened a web page from a WeCom message, as WeCom's web sign-in says (WECHAT.md §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WecomViewer {
    /// A member of the company, by the user id the roster holds (compare case-insensitively).
    Member { userid: String },
    /// Someone outside the company.
    Outsider,
}

/// The WeCom web sign-in port: the silent OAuth (`snsapi_base`) that tells a page which
/// employee is reading it.
#[async_trait::async_trait]
pub trait WecomSignIn: Send + Sync + 'static {
    /// Where to send the browser; WeCom comes back to `redirect_uri` with `code` and `state`
    /// (1 to 128 letters and digits).
    fn authorize_url(&self, redirect_uri: &str, state: &str) -> Result<String, LoginFailure>;
    /// Who the `code` WeCom handed back belongs to (each code works once).
    async fn identify(&self, code: &str) -> Result<WecomViewer, LoginFailure>;
}
