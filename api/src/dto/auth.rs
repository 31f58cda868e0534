use fingertip_core::auth::TokenPair;
use fingertip_core::org::MemberView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::common::Id;

#[derive(Debug, Deserialize, ToSchema)]
pub struct AdminLoginRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WechatLoginRequest {
    /// The code from `wx.login`.
    #[schema(min_length = 1, max_length = 128)]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BindRequest {
    #[schema(min_length = 1, max_length = 2048)]
    pub bind_token: String,
    #[schema(min_length = 1, max_length = 32)]
    pub invite_code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: String,
}

/// A console login ticket the mini-program scanned (WECHAT.md §12).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsoleApproveRequest {
    /// The ticket in the console's QR code.
    #[schema(min_length = 1, max_length = 32)]
    pub ticket: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// The refresh token to revoke; without it, the session of the bearer token ends.
    #[schema(min_length = 1, max_length = 256)]
    pub refresh_token: Option<String>,
}

/// The caller as the mini-program shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    /// member, secretary or admin
    #[schema(value_type = super::enums::RoleSchema)]
    pub role: String,
    pub tags: Vec<String>,
    pub wechat_bound: bool,
}

impl From<MemberView> for Me {
    fn from(m: MemberView) -> Self {
        Self {
            id: Id(m.id),
            name: m.name,
            unit_id: m.unit_id.map(Id),
            role: m.role.as_str().into(),
            tags: m.tags,
            wechat_bound: m.wechat_bound,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub member: Me,
}

impl From<TokenPair> for TokenResponse {
    fn from(t: TokenPair) -> Self {
        Self {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in: t.expires_in,
            member: t.member.into(),
        }
    }
}

/// The WeChat account is not bound yet: bind it with an invite code.
#[derive(Debug, Serialize, ToSchema)]
pub struct BindRequiredResponse {
    pub bind_required: bool,
    /// Valid for 10 minutes.
    pub bind_token: String,
}

/// What a WeChat login answers: tokens when the account is bound, else a bind token
/// (`bind_required` is there only then).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WechatLoginResponse {
    Tokens(TokenResponse),
    BindRequired(BindRequiredResponse),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OkResponse {
    pub ok: bool,
}
