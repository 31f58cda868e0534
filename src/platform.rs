//! The messaging platform, wired: the WeChat and WeCom clients built from the settings, sharing
//! one access-token store, handed to the core as its login, push and WeCom sign-in ports.

use std::sync::Arc;
use std::time::Duration;

use fingertip_core::settings::Settings;
use fingertip_platform::{PushPlatform, TokenStore, UnixClock, WechatLogin, WecomSignIn};
use fingertip_wechat::{Platform, WechatClient, WechatConfig, WecomClient, WecomConfig};
use secrecy::ExposeSecret;

/// The core's platform ports; each `None` when its credentials are not configured.
pub struct Ports {
    pub login: Option<Arc<dyn WechatLogin>>,
    pub push: Option<Arc<dyn PushPlatform>>,
    pub wecom_sign_in: Option<Arc<dyn WecomSignIn>>,
}

/// Builds the clients that the settings configure. Every call goes through `tokens` (Redis when
/// the deployment has one, so that one process refreshes and all use the token) and reads "now"
/// from `now`.
pub fn wire(settings: &Settings, tokens: Arc<dyn TokenStore>, now: UnixClock) -> Ports {
    let http = fingertip_wechat::http_client(Duration::from_secs(10));
    let wechat = settings.wechat.as_ref().map(|w| {
        WechatClient::new(
            http.clone(),
            WechatConfig {
                api_base: w.api_base.clone(),
                appid: w.appid.clone(),
                secret: w.secret.expose_secret().to_string(),
            },
        )
        .with_token_store(tokens.clone())
        .with_clock(now.clone())
    });
    let wecom = settings.wecom.as_ref().map(|w| {
        WecomClient::new(
            http.clone(),
            WecomConfig {
                api_base: w.api_base.clone(),
                corpid: w.corp_id.clone(),
                secret: w.secret.expose_secret().to_string(),
                agentid: w.agent_id,
                oauth_base: w.oauth_base.clone(),
            },
        )
        .with_token_store(tokens.clone())
        .with_clock(now.clone())
    });
    let login = wechat.clone().map(|c| Arc::new(c) as Arc<dyn WechatLogin>);
    let wecom_sign_in = wecom.clone().map(|c| Arc::new(c) as Arc<dyn WecomSignIn>);
    let push = (wechat.is_some() || wecom.is_some())
        .then(|| Arc::new(Platform { wechat, wecom }) as Arc<dyn PushPlatform>);
    Ports {
        login,
        push,
        wecom_sign_in,
    }
}
