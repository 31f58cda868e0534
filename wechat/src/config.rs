//! Credentials and base URL of the mini-program.

use std::fmt;

/// Where and as whom to call WeChat. `Debug` redacts `secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct WechatConfig {
    /// `https://api.weixin.qq.com` in production, the mock's `base_url()` in tests.
    /// A trailing slash is ignored.
    pub api_base: String,
    pub appid: String,
    /// The AppSecret. Only ever sent to WeChat.
    pub secret: String,
}

impl fmt::Debug for WechatConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatConfig")
            .field("api_base", &self.api_base)
            .field("appid", &self.appid)
            .field("secret", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret() {
        let cfg = WechatConfig {
            api_base: "https://api.weixin.qq.com".into(),
            appid: "wx123".into(),
            secret: "s3cr3t-value".into(),
        };
        let dbg = format!("{cfg:?}");
        assert!(dbg.contains("wx123"));
        assert!(!dbg.contains("s3cr3t-value"));
    }
}
