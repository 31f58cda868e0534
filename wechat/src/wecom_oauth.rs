//! WeCom web OAuth (`snsapi_base`, WECHAT.md §11): the authorize URL a reading page sends the
//! browser to, and `getuserinfo`, which turns the code WeCom hands back into a user id.

use reqwest::Url;
use serde::Deserialize;

use crate::WecomClient;
use crate::client::{get, join_url};
use crate::envelope::Envelope;
use crate::error::WechatError;

/// Longest `state` WeCom carries through the redirect.
pub const MAX_STATE: usize = 128;

/// Who opened the link, as WeCom says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WecomIdentity {
    /// A member of the company, by the user id the roster holds.
    Member { userid: String },
    /// Someone outside the company (WeCom gives only an openid).
    Outsider,
}

/// `getuserinfo`'s fields; the older path capitalises them (`UserId`, `OpenId`).
#[derive(Deserialize)]
struct RawUserInfo {
    #[serde(alias = "UserId")]
    userid: Option<String>,
    #[serde(alias = "OpenId")]
    openid: Option<String>,
}

impl WecomClient {
    /// The URL of WeCom's silent sign-in (`snsapi_base`) that comes back to `redirect_uri` with
    /// `code` and `state`. `state` must be 1 to 128 letters and digits.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> Result<String, WechatError> {
        if state.is_empty()
            || state.len() > MAX_STATE
            || !state.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(WechatError::InvalidRequest {
                reason: "state must be 1 to 128 letters and digits".into(),
            });
        }
        let cfg = self.config();
        let mut url: Url = join_url(&cfg.oauth_base, "/connect/oauth2/authorize")?;
        url.query_pairs_mut()
            .append_pair("appid", &cfg.corpid)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_base")
            .append_pair("state", state)
            .append_pair("agentid", &cfg.agentid.to_string());
        url.set_fragment(Some("wechat_redirect"));
        Ok(url.into())
    }

    /// `GET /cgi-bin/auth/getuserinfo`: who the OAuth `code` belongs to. Each code works once
    /// (40029 after). A rejected token is refreshed and the call retried once.
    pub async fn user_identity(&self, code: &str) -> Result<WecomIdentity, WechatError> {
        let code = code.trim();
        if code.is_empty() {
            return Err(WechatError::EmptyCode);
        }
        let url = join_url(&self.config().api_base, "/cgi-bin/auth/getuserinfo")?;
        self.tokens()
            .call_with_token(&|| self.fetch_token(), |token| {
                let mut url = url.clone();
                url.query_pairs_mut()
                    .append_pair("access_token", &token)
                    .append_pair("code", code);
                async move {
                    let body = get(self.http(), url).await?;
                    let raw = Envelope::<RawUserInfo>::parse(&body)?.into_result()?;
                    match (raw.userid, raw.openid) {
                        (Some(userid), _) if !userid.is_empty() => {
                            Ok(WecomIdentity::Member { userid })
                        }
                        (_, Some(_)) => Ok(WecomIdentity::Outsider),
                        _ => Err(WechatError::Decode {
                            reason: "getuserinfo success body has neither userid nor openid".into(),
                        }),
                    }
                }
            })
            .await
    }
}
