//! The `fingertip-platform` ports over these clients: [`Platform`] sends pushes through the
//! WeChat and WeCom clients, and [`WechatClient`] answers logins. Every failure leaves here as
//! the port's own type, classified once by [`WechatError::disposition`] or
//! [`WechatError::class`].

use fingertip_platform::{
    LoginFailure, LoginIdentity, PushFailure, PushPlatform, WechatLogin, WechatPush, WecomAccepted,
    WecomPush, WecomSignIn, WecomViewer,
};

use crate::{SubscribeMessage, TextCard, WechatClient, WechatError, WecomClient, WecomIdentity};

/// The push platform: either client may be missing (that channel is not configured).
pub struct Platform {
    pub wechat: Option<WechatClient>,
    pub wecom: Option<WecomClient>,
}

fn push_failure(e: &WechatError) -> PushFailure {
    PushFailure {
        disposition: e.disposition(),
        errcode: e.errcode(),
        message: e.to_string(),
    }
}

fn not_configured(channel: &str) -> PushFailure {
    PushFailure {
        disposition: fingertip_platform::Disposition::Permanent,
        errcode: None,
        message: format!("{channel} is not configured"),
    }
}

#[async_trait::async_trait]
impl PushPlatform for Platform {
    fn wechat_app(&self) -> Option<String> {
        self.wechat.as_ref().map(|c| c.config().appid.clone())
    }

    fn wecom_app(&self) -> Option<String> {
        self.wecom
            .as_ref()
            .map(|c| format!("{}:{}", c.config().corpid, c.config().agentid))
    }

    async fn send_wechat(&self, push: &WechatPush) -> Result<String, PushFailure> {
        let Some(c) = &self.wechat else {
            return Err(not_configured("wechat"));
        };
        let msg = SubscribeMessage {
            touser: push.openid.clone(),
            template_id: push.template_id.clone(),
            page: push.page.clone(),
            data: push.data.clone(),
            miniprogram_state: None,
        };
        c.send_subscribe(&msg)
            .await
            .map(|id| id.to_string())
            .map_err(|e| push_failure(&e))
    }

    async fn send_wecom(&self, push: &WecomPush) -> Result<WecomAccepted, PushFailure> {
        let Some(c) = &self.wecom else {
            return Err(not_configured("wecom"));
        };
        let card = TextCard {
            touser: push.userids.clone(),
            title: push.title.clone(),
            description: push.description.clone(),
            url: push.url.clone(),
            btntxt: Some("查看".into()),
        };
        c.send_textcard(&card)
            .await
            .map(|r| WecomAccepted {
                msgid: r.msgid,
                invalid_users: r.invalid_users,
            })
            .map_err(|e| push_failure(&e))
    }
}

fn login_failure(e: &WechatError) -> LoginFailure {
    LoginFailure {
        class: e.class(),
        errcode: e.errcode(),
        message: e.to_string(),
    }
}

#[async_trait::async_trait]
impl WecomSignIn for WecomClient {
    fn authorize_url(&self, redirect_uri: &str, state: &str) -> Result<String, LoginFailure> {
        WecomClient::authorize_url(self, redirect_uri, state).map_err(|e| login_failure(&e))
    }

    async fn identify(&self, code: &str) -> Result<WecomViewer, LoginFailure> {
        match self.user_identity(code).await {
            Ok(WecomIdentity::Member { userid }) => Ok(WecomViewer::Member { userid }),
            Ok(WecomIdentity::Outsider) => Ok(WecomViewer::Outsider),
            Err(e) => Err(login_failure(&e)),
        }
    }
}

#[async_trait::async_trait]
impl WechatLogin for WechatClient {
    async fn identify(&self, code: &str) -> Result<LoginIdentity, LoginFailure> {
        match self.code2session(code).await {
            Ok(s) => Ok(LoginIdentity {
                openid: s.openid,
                unionid: s.unionid,
            }),
            Err(e) => Err(login_failure(&e)),
        }
    }
}
