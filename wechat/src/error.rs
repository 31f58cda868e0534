//! Errors from WeChat calls and how callers should treat them: [`WechatError::class`] for the
//! login API, [`WechatError::send_disposition`] for the push worker.
//!
//! No variant carries the AppSecret, a session_key, an access token or a request URL (URLs
//! hold the secret or the token).

use crate::token::StoreError;

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

/// What the push worker should do with a message whose send failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendDisposition {
    /// Transient (busy, throttled, timeout, 5xx, token store down): retry with backoff.
    /// A timeout or an undecodable answer may hide a send that did happen, so a retry can
    /// deliver twice.
    Retry,
    /// Daily quota reached (45009): retry after the next daily reset
    /// ([`next_daily_reset`]).
    RetryTomorrow,
    /// The user has no subscription grant left for this template (43101): set the grant
    /// count to 0 and do not retry until the user subscribes again.
    NoConsent,
    /// This message cannot be delivered as it is (bad openid/userid, template, data, page,
    /// agent, permissions, or an unknown errcode): do not retry.
    Permanent,
    /// This server's credentials or setup are wrong (secret, appid, IP whitelist, a token
    /// still rejected after a refresh): nothing will get through until an operator acts.
    /// Keep the message; retrying before the fix only fails again.
    Misconfigured,
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

    /// How the push worker should treat this failed send; see [`SendDisposition`].
    ///
    /// Token errors (40001/40014/42001) are retried once inside the client with a fresh
    /// token, so when one reaches the caller the refresh did not help: `Misconfigured`.
    pub fn send_disposition(&self) -> SendDisposition {
        match self {
            WechatError::Api { errcode, .. } => disposition_of_errcode(*errcode),
            WechatError::Transport { .. }
            | WechatError::Decode { .. }
            | WechatError::TokenStore(_)
            | WechatError::TokenUnavailable { .. } => SendDisposition::Retry,
            WechatError::HttpStatus { status } => match status {
                429 | 500..=599 => SendDisposition::Retry,
                _ => SendDisposition::Misconfigured,
            },
            WechatError::InvalidConfig { .. } => SendDisposition::Misconfigured,
            WechatError::InvalidRequest { .. } | WechatError::EmptyCode => {
                SendDisposition::Permanent
            }
        }
    }
}

/// Send errcodes of api.weixin.qq.com and qyapi (WECHAT.md §3, §4.1, §9).
fn disposition_of_errcode(errcode: i64) -> SendDisposition {
    match errcode {
        // busy, per-minute limit, WeCom too many concurrent calls
        -1 | 45011 | 45033 => SendDisposition::Retry,
        45009 => SendDisposition::RetryTomorrow,
        43101 => SendDisposition::NoConsent,
        // token still bad after one refresh, or token missing
        40001 | 40014 | 42001 | 41001
        // token fetch: grant_type, appid/corpid, appsecret, IP whitelist, secret frozen,
        // IP needs confirmation, missing corpid/secret, API not authorised
        | 40002 | 40013 | 40125 | 40164 | 40243 | 61004 | 89503 | 41002 | 41004 | 48001 => {
            SendDisposition::Misconfigured
        }
        // 40003 openid/userid, 40037 template, 47003 data, 41030 page, 81013/82001 all
        // recipients invalid, 40056 agentid, 48002 forbidden, 60011 no permission, 60020 IP
        // not trusted, 301002 token of another agent, and anything unknown.
        _ => SendDisposition::Permanent,
    }
}

/// Unix seconds of the next daily quota reset after `now`: midnight in Beijing (UTC+8, no
/// daylight saving), i.e. 16:00 UTC. That the quotas reset at Beijing midnight is the
/// platform's usual behaviour, not a documented contract.
pub fn next_daily_reset(now: i64) -> i64 {
    const DAY: i64 = 86_400;
    const BEIJING: i64 = 8 * 3_600;
    let local = now.saturating_add(BEIJING);
    (local.div_euclid(DAY) + 1) * DAY - BEIJING
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
        use SendDisposition::*;
        for c in [-1, 45011, 45033] {
            assert_eq!(api(c).send_disposition(), Retry, "{c}");
        }
        assert_eq!(api(45009).send_disposition(), RetryTomorrow);
        assert_eq!(api(43101).send_disposition(), NoConsent);
        for c in [
            40003, 40037, 47003, 41030, 81013, 82001, 40056, 48002, 60011, 60020, 301002, 12345,
        ] {
            assert_eq!(api(c).send_disposition(), Permanent, "{c}");
        }
        for c in [40001, 40014, 42001, 41001, 40125, 40013, 40164, 40243] {
            assert_eq!(api(c).send_disposition(), Misconfigured, "{c}");
        }
        assert_eq!(
            WechatError::HttpStatus { status: 503 }.send_disposition(),
            Retry
        );
        assert_eq!(
            WechatError::HttpStatus { status: 429 }.send_disposition(),
            Retry
        );
        assert_eq!(
            WechatError::HttpStatus { status: 404 }.send_disposition(),
            Misconfigured
        );
        assert_eq!(
            WechatError::Decode { reason: "x".into() }.send_disposition(),
            Retry
        );
        assert_eq!(
            WechatError::TokenUnavailable { reason: "x".into() }.send_disposition(),
            Retry
        );
        assert_eq!(
            WechatError::InvalidRequest { reason: "x".into() }.send_disposition(),
            Permanent
        );
    }

    #[test]
    fn daily_reset_is_beijing_midnight() {
        // 2026-12-01T15:59:59Z is 23:59:59 in Beijing; the reset is one second later.
        let before = 1_796_140_799;
        assert_eq!(next_daily_reset(before), before + 1);
        // Exactly at the reset: the next one, a day later.
        assert_eq!(next_daily_reset(before + 1), before + 1 + 86_400);
        // 2026-12-01T00:00:00Z is 08:00 in Beijing: 16 hours to go.
        assert_eq!(next_daily_reset(1_796_083_200), 1_796_083_200 + 16 * 3_600);
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
