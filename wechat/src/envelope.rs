//! The `{"errcode":..,"errmsg":..}` envelope shared by every WeChat response.
//!
//! Success bodies often omit `errcode` (jscode2session, `/cgi-bin/token`), so it defaults to 0.
//! Bodies are parsed from bytes whatever the `Content-Type` says (WeChat sometimes sends JSON
//! as `text/plain`).

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::WechatError;

/// A decoded response: the envelope fields plus the endpoint-specific fields in `data`.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope<T> {
    /// 0 (or absent) means success.
    #[serde(default)]
    pub errcode: i64,
    /// Free text with a per-call trace suffix (`rid: ...`); never branch on it.
    #[serde(default)]
    pub errmsg: String,
    #[serde(flatten)]
    pub data: T,
}

impl<T: DeserializeOwned> Envelope<T> {
    /// Parses a response body. Errors never quote the body (it may hold a session_key).
    pub fn parse(body: &[u8]) -> Result<Self, WechatError> {
        serde_json::from_slice(body).map_err(|e| WechatError::Decode {
            reason: format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ),
        })
    }
}

impl<T> Envelope<T> {
    /// `Ok(data)` when `errcode == 0`, otherwise [`WechatError::Api`].
    pub fn into_result(self) -> Result<T, WechatError> {
        if self.errcode == 0 {
            Ok(self.data)
        } else {
            Err(WechatError::Api {
                errcode: self.errcode,
                errmsg: self.errmsg,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Token {
        access_token: Option<String>,
    }

    #[test]
    fn missing_errcode_means_success() {
        let env = Envelope::<Token>::parse(br#"{"access_token":"t","expires_in":7200}"#).unwrap();
        assert_eq!(env.errcode, 0);
        assert_eq!(env.errmsg, "");
        assert_eq!(
            env.into_result().unwrap().access_token.as_deref(),
            Some("t")
        );
    }

    #[test]
    fn error_body_becomes_api_error() {
        let env = Envelope::<Token>::parse(br#"{"errcode":40029,"errmsg":"invalid code rid: 1"}"#)
            .unwrap();
        let err = env.into_result().unwrap_err();
        assert_eq!(err.errcode(), Some(40029));
    }

    #[test]
    fn undecodable_body_does_not_echo_content() {
        let err = Envelope::<Token>::parse(b"<html>session_key=abc</html>").unwrap_err();
        assert!(matches!(err, WechatError::Decode { .. }));
        assert!(!format!("{err} {err:?}").contains("abc"));
    }

    #[test]
    fn wrong_type_does_not_echo_value() {
        let err = Envelope::<Token>::parse(br#"{"access_token":{"k":"leaky"}}"#).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("leaky"));
    }
}
