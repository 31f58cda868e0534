//! WeChat login (`jscode2session`) and binding a WeChat account to a roster entry with its
//! one-time invite code, throttled per account and per address.

use fingertip_platform::ErrorClass;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::login::Client;
use super::login::key;
use super::session::TokenPair;
use super::session::start_session;
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::secrets::normalize_invite_code;
use crate::entities::members;
use crate::error::{CoreError, CoreResult, Violations};
use crate::ports::throttle::{self, Rule};

/// Invite-code attempts per WeChat account (the bind token's): 10 an hour, so that the
/// 8-character codes (31^8 ≈ 8.5·10^11) cannot be guessed.
pub const BINDS_PER_ACCOUNT: Rule = Rule {
    max: 10,
    window_secs: 3600,
};
/// Invite-code attempts per client address.
pub const BINDS_PER_ADDRESS: Rule = Rule {
    max: 30,
    window_secs: 600,
};

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Tokens(TokenPair),
    BindRequired { bind_token: String },
}

/// Exchanges a `wx.login` code for tokens, or for a bind token when the WeChat account is
/// not yet linked to a roster entry.
pub async fn wechat_login(core: &Core, code: &str) -> CoreResult<LoginOutcome> {
    let mut v = Violations::new();
    v.text(code, "code", 128);
    v.finish()?;
    let login = core.login.as_ref().ok_or_else(|| CoreError::Upstream {
        message: "WeChat login is not configured on this server (FINGERTIP_WECHAT_APPID and FINGERTIP_WECHAT_SECRET are unset)".into(),
        unavailable: true,
    })?;
    let session = login.identify(code.trim()).await.map_err(|e| {
        tracing::warn!(errcode = ?e.errcode, error = %e, "jscode2session failed");
        match e.class {
            ErrorClass::InvalidInput => {
                CoreError::invalid("code", "the WeChat login code is invalid, expired or already used; call wx.login again")
            }
            ErrorClass::RateLimited => CoreError::RateLimited {
                message: "WeChat is limiting logins; try again in a minute".into(),
                retry_after_secs: 60,
            },
            ErrorClass::Unavailable => CoreError::Upstream {
                message: "WeChat did not answer; try again shortly".into(),
                unavailable: true,
            },
            ErrorClass::Misconfigured => CoreError::Upstream {
                message: "WeChat refused this server's credentials; the operator must check the app id and secret".into(),
                unavailable: false,
            },
        }
    })?;
    let member = members::Entity::find()
        .filter(members::Column::WechatOpenid.eq(session.openid.clone()))
        .one(&core.db)
        .await?;
    match member {
        Some(m) if m.active => Ok(LoginOutcome::Tokens(start_session(core, &m).await?)),
        Some(_) => Err(CoreError::Forbidden(
            "this member has been deactivated".into(),
        )),
        None => Ok(LoginOutcome::BindRequired {
            bind_token: core.tokens.bind_token(&session.openid, core.now())?,
        }),
    }
}

/// Links the WeChat account behind `bind_token` to the roster entry holding `invite_code`.
/// The code works once.
/// Attempts are throttled per WeChat account and per client address (429 with `Retry-After`).
pub async fn bind(
    core: &Core,
    bind_token: &str,
    invite_code: &str,
    client: &Client,
) -> CoreResult<TokenPair> {
    let mut v = Violations::new();
    v.text(bind_token, "bind_token", 2048);
    v.text(invite_code, "invite_code", 32);
    v.finish()?;
    let now = core.now();
    let slow_down = "too many invite-code attempts; check the code with your branch secretary and try again later";
    throttle::check(
        core.throttle.as_ref(),
        &key("bind:addr", &client.address),
        BINDS_PER_ADDRESS,
        now,
        slow_down,
    )
    .await?;
    let openid = core.tokens.verify_bind(bind_token.trim(), now)?;
    throttle::check(
        core.throttle.as_ref(),
        &key("bind:account", &openid),
        BINDS_PER_ACCOUNT,
        now,
        slow_down,
    )
    .await?;
    let code = normalize_invite_code(invite_code);
    let bad_code = || {
        CoreError::invalid(
            "invite_code",
            "is not a valid invite code, or it has been used",
        )
    };
    let m = members::Entity::find()
        .filter(members::Column::InviteCode.eq(code.clone()))
        .filter(members::Column::Active.eq(true))
        .one(&core.db)
        .await?
        .ok_or_else(bad_code)?;
    let txn = crate::db::begin_write(&core.db).await?;
    let r = members::Entity::update_many()
        .col_expr(members::Column::WechatOpenid, Expr::value(openid))
        .col_expr(
            members::Column::InviteCode,
            Expr::value(Option::<String>::None),
        )
        .col_expr(members::Column::UpdatedAt, Expr::value(core.now()))
        .filter(members::Column::Id.eq(m.id))
        .filter(members::Column::InviteCode.eq(code))
        .exec(&txn)
        .await;
    match r {
        Ok(r) if r.rows_affected == 1 => {
            let role = m.role;
            audit::append(
                &txn,
                now,
                &Who::member(m.id, role),
                Event::new("auth.bind")
                    .target("member", m.id)
                    .summary(json!({"address": client.address})),
            )
            .await?;
            txn.commit().await?;
        }
        Ok(_) => return Err(bad_code()),
        Err(e) if crate::error::is_unique_violation(&e) => {
            return Err(CoreError::Conflict(
                "this WeChat account is already bound to another member".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(member.id = m.id, "WeChat account bound");
    let m = members::Entity::find_by_id(m.id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("member"))?;
    start_session(core, &m).await
}
