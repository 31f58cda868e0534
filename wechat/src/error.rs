//! Errors from WeChat calls and what they mean to the core, in the types of the ports it calls
//! through: [`WechatError::class`] for a login, [`WechatError::disposition`] for a push.
//!
//! No variant carries the AppSecret, a session_key, an access token or a request URL (URLs
//! hold the secret or the token).

use fingertip_platform::{Disposition, ErrorClass, StoreError};

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
    /// The message was refused before sending (e.g. more than 1000 WeCom recipients).
    #[error("invalid request: {reason}")]
    InvalidRequest { reason: String },
    /// The token store (cache or lock) failed.
    #[error("access-token store failed: {0}")]
    TokenStore(#[from] StoreError),
    /// No access token could be had in time (the refresher held the lock too long).
    #[error("no access token available: {reason}")]
    TokenUnavailable { reason: String },
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
            WechatError::InvalidRequest { .. } => ErrorClass::InvalidInput,
            WechatError::TokenStore(_) | WechatError::TokenUnavailable { .. } => {
                ErrorClass::Unavailable
            }
        }
    }

    /// What this failed send means for the push sender.
    ///
    /// Token errors (40001/40014/42001) are retried once inside the client with a fresh
    /// token, so when one reaches the caller the refresh did not help: this server's setup is
    /// wrong, and the push is retried with backoff (an operator may fix it in the meantime)
    /// until its attempts run out.
    pub fn disposition(&self) -> Disposition {
        match self {
            WechatError::Api { errcode, .. } => disposition_of_errcode(*errcode),
            // Never reached the platform: safe to send again.
            WechatError::Transport { source } if source.is_connect() => Disposition::Retry,
            // The request may have been accepted and the answer lost: a retry could deliver
            // twice. (A timeout while fetching the token lands here too; that push is given up
            // as unknown rather than risking a duplicate.)
            WechatError::Transport { .. } | WechatError::Decode { .. } => Disposition::InDoubt,
            WechatError::HttpStatus {
                status: 500 | 502 | 504,
            } => Disposition::InDoubt,
            // 429, 503 and the rest of 5xx were refused before any work; any other status is a
            // proxy or setup problem an operator can fix.
            WechatError::HttpStatus { .. } | WechatError::InvalidConfig { .. } => {
                Disposition::Retry
            }
            WechatError::TokenStore(_) | WechatError::TokenUnavailable { .. } => {
                Disposition::NotSent
            }
            WechatError::InvalidRequest { .. } | WechatError::EmptyCode => Disposition::Permanent,
        }
    }
}

/// Send errcodes of api.weixin.qq.com and qyapi (WECHAT.md §3, §4.1, §9).
fn disposition_of_errcode(errcode: i64) -> Disposition {
    match errcode {
        // busy, per-minute limit, WeCom too many concurrent calls
        -1 | 45011 | 45033 => Disposition::Retry,
        45009 => Disposition::RetryTomorrow,
        43101 => Disposition::NoConsent,
        // This server's credentials or setup: token still bad after one refresh, or token
        // missing; token fetch: grant_type, appid/corpid, appsecret, IP whitelist, secret
        // frozen, IP needs confirmation, missing corpid/secret, API not authorised. Nothing
        // gets through until an operator acts; retried with backoff meanwhile.
        40001 | 40014 | 42001 | 41001 | 40002 | 40013 | 40125 | 40164 | 40243 | 61004 | 89503
        | 41002 | 41004 | 48001 => Disposition::Retry,
        // 40003 openid/userid, 40037 template, 47003 data, 41030 page, 81013/82001 all
        // recipients invalid, 40056 agentid, 48002 forbidden, 60011 no permission, 60020 IP
        // not trusted, 301002 token of another agent, and anything unknown.
        _ => Disposition::Permanent,
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
    fn send_dispositions() {
        use Disposition::*;
        for c in [-1, 45011, 45033] {
            assert_eq!(api(c).disposition(), Retry, "{c}");
        }
        assert_eq!(api(45009).disposition(), RetryTomorrow);
        assert_eq!(api(43101).disposition(), NoConsent);
        for c in [
            40003, 40037, 47003, 41030, 81013, 82001, 40056, 48002, 60011, 60020, 301002, 12345,
        ] {
            assert_eq!(api(c).disposition(), Permanent, "{c}");
        }
        // Our own setup: retried until the attempts run out.
        for c in [40001, 40014, 42001, 41001, 40125, 40013, 40164, 40243] {
            assert_eq!(api(c).disposition(), Retry, "{c}");
        }
        let status = |status| WechatError::HttpStatus { status }.disposition();
        assert_eq!(status(503), Retry);
        assert_eq!(status(429), Retry);
        assert_eq!(status(404), Retry);
        // The gateway may have passed the request on: do not send it twice.
        for s in [500, 502, 504] {
            assert_eq!(status(s), InDoubt, "{s}");
        }
        assert_eq!(
            WechatError::Decode { reason: "x".into() }.disposition(),
            InDoubt
        );
        assert_eq!(
            WechatError::TokenUnavailable { reason: "x".into() }.disposition(),
            NotSent
        );
        assert_eq!(
            WechatError::InvalidRequest { reason: "x".into() }.disposition(),
            Permanent
        );
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
