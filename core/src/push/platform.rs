//! The push port over the `fingertip-wechat` clients (or the mock they are pointed at).

use fingertip_wechat::{
    SendDisposition, SubscribeMessage, TextCard, WechatClient, WechatError, WecomClient,
};

use crate::ports::push::{
    Disposition, PushFailure, PushPlatform, WechatPush, WecomAccepted, WecomPush,
};

pub struct WechatPlatform {
    pub wechat: Option<WechatClient>,
    pub wecom: Option<WecomClient>,
}

fn failure(e: WechatError) -> PushFailure {
    let disposition = match &e {
        // Never reached the platform: safe to send again.
        WechatError::Transport { source } if source.is_connect() => Disposition::Retry,
        // The request may have been accepted and the answer lost: a retry could deliver twice.
        // (A timeout while fetching the token lands here too; that push is given up as
        // unknown rather than risking a duplicate.)
        WechatError::Transport { .. } | WechatError::Decode { .. } => Disposition::InDoubt,
        WechatError::HttpStatus {
            status: 500 | 502 | 504,
        } => Disposition::InDoubt,
        WechatError::TokenStore(_) | WechatError::TokenUnavailable { .. } => Disposition::NotSent,
        _ => match e.send_disposition() {
            SendDisposition::Retry => Disposition::Retry,
            SendDisposition::RetryTomorrow => Disposition::RetryTomorrow,
            SendDisposition::NoConsent => Disposition::NoConsent,
            SendDisposition::Permanent => Disposition::Permanent,
            // Our own credentials or setup: retried with backoff (an operator may fix it in
            // the meantime) and dead-lettered once the attempts run out.
            SendDisposition::Misconfigured => Disposition::Retry,
        },
    };
    PushFailure {
        disposition,
        errcode: e.errcode(),
        message: e.to_string(),
    }
}

#[async_trait::async_trait]
impl PushPlatform for WechatPlatform {
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
            return Err(PushFailure {
                disposition: Disposition::Permanent,
                errcode: None,
                message: "wechat is not configured".into(),
            });
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
            .map_err(failure)
    }

    async fn send_wecom(&self, push: &WecomPush) -> Result<WecomAccepted, PushFailure> {
        let Some(c) = &self.wecom else {
            return Err(PushFailure {
                disposition: Disposition::Permanent,
                errcode: None,
                message: "wecom is not configured".into(),
            });
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
            .map_err(failure)
    }
}
