//! Errors from WeChat calls and how the API layer should treat them.
//!
//! No variant carries the AppSecret, a session_key or a request URL (the URL holds the secret).

/// What a caller should do about a [`WechatError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The user's input (e.g. the login code) is bad: answer 400 and let the client retry
    /// with a fresh `wx.login` code.
    InvalidInput,
    /// WeChat is throttling (45011): answer 429, retry after about a minute.
    RateLimited,
    /// WeChat is busy or unreachable: answer 503, retry later.
    Unavailable,
    /// WeChat rejected this server's configuration (appid, secret, permissions) or answered
    /// something unexpected: answer 502, an operator must look.
    Misconfigured,
}

/// A failed WeChat call.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    /// WeChat answered with a non-zero `errcode`.
    #[error("WeChat error {errcode}: {errmsg}")]
    Api { errcode: i64, errmsg: String },
    /// The caller passed an empty login code; nothing was sent.
    #[error("the login code is empty")]
    EmptyCode,
    /// No usable HTTP response: connect refused, timeout, reset connection.
    #[error("WeChat request failed ({})", transport_kind(source))]
    Transport {
        /// The reqwest error, with its URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// A non-2xx HTTP status (WeChat reports API errors with 200, so this is a proxy or outage).
    #[error("WeChat answered HTTP {status}")]
    HttpStatus { status: u16 },
    /// The body is not the JSON we expect (including a success body without `openid`).
    #[error("WeChat response could not be decoded: {reason}")]
    Decode { reason: String },
    /// `api_base` does not form a valid URL.
    #[error("invalid WeChat api_base: {reason}")]
    InvalidConfig { reason: String },
}

impl WechatError {
    /// Wraps a reqwest error, dropping its URL (which contains the secret).
    pub fn transport(e: reqwest::Error) -> Self {
        WechatError::Transport {
            source: e.without_url(),
        }
    }

    /// The WeChat `errcode`, when WeChat answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatError::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// How the caller should react; see [`ErrorClass`].
    pub fn class(&self) -> ErrorClass {
        match self {
            WechatError::Api { errcode, .. } => class_of_errcode(*errcode),
            WechatError::EmptyCode => ErrorClass::InvalidInput,
            WechatError::Transport { .. } | WechatError::Decode { .. } => ErrorClass::Unavailable,
            WechatError::HttpStatus { status } => match status {
                429 => ErrorClass::RateLimited,
                500..=599 => ErrorClass::Unavailable,
                _ => ErrorClass::Misconfigured,
            },
            WechatError::InvalidConfig { .. } => ErrorClass::Misconfigured,
        }
    }
}

/// Classifies jscode2session errcodes (WECHAT.md §1). Unknown codes are `Misconfigured`:
/// something on the platform or config side that retrying with another code will not fix.
fn class_of_errcode(errcode: i64) -> ErrorClass {
    match errcode {
        // invalid / expired code, code been used, code blocked by risk control
        40029 | 40163 | 40226 => ErrorClass::InvalidInput,
        45011 => ErrorClass::RateLimited,
        -1 => ErrorClass::Unavailable,
        // 40013 invalid appid, 40125 invalid appsecret, 40001 bad secret, 48001 unauthorized
        _ => ErrorClass::Misconfigured,
    }
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "transport error"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(errcode: i64) -> WechatError {
        WechatError::Api {
            errcode,
            errmsg: "x".into(),
        }
    }

    #[test]
    fn errcode_classes() {
        for c in [40029, 40163, 40226] {
            assert_eq!(api(c).class(), ErrorClass::InvalidInput, "{c}");
        }
        assert_eq!(api(45011).class(), ErrorClass::RateLimited);
        assert_eq!(api(-1).class(), ErrorClass::Unavailable);
        for c in [40013, 40125, 40001, 48001, 12345] {
            assert_eq!(api(c).class(), ErrorClass::Misconfigured, "{c}");
        }
        assert_eq!(api(40163).errcode(), Some(40163));
    }

    #[test]
    fn non_api_classes() {
        assert_eq!(WechatError::EmptyCode.class(), ErrorClass::InvalidInput);
        assert_eq!(WechatError::EmptyCode.errcode(), None);
        assert_eq!(
            WechatError::HttpStatus { status: 502 }.class(),
            ErrorClass::Unavailable
        );
        assert_eq!(
            WechatError::HttpStatus { status: 404 }.class(),
            ErrorClass::Misconfigured
        );
        assert_eq!(
            WechatError::Decode { reason: "x".into() }.class(),
            ErrorClass::Unavailable
        );
    }
}
