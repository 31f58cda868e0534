//! Logins, token rotation, logout, binding a WeChat account, and authenticating a request.

use chrono::Duration;
use fingertip_wechat::ErrorClass;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::password;
use super::roles::{Actor, Role};
use super::secrets::{normalize_invite_code, random_token, sha256_hex};
use super::tokens::{ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
use crate::Core;
use crate::entities::{members, refresh_tokens, sessions};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::members::{MemberView, view};

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub member: MemberView,
}

#[derive(Debug, Clone)]
pub enum LoginOutcome {
    Tokens(TokenPair),
    BindRequired { bind_token: String },
}

fn unauthorized(msg: &str) -> CoreError {
    CoreError::Unauthorized(msg.to_string())
}

/// Creates or resets the configured admin at start-up. Several processes starting at once
/// may race here: the loser of the insert finds the winner's row and resets it instead.
pub async fn ensure_admin(core: &Core, username: &str, pw: &str) -> CoreResult<i64> {
    let hash = password::hash(pw.to_string()).await?;
    for _ in 0..3 {
        let now = core.now();
        let existing = members::Entity::find()
            .filter(members::Column::Username.eq(username))
            .one(&core.db)
            .await?;
        if let Some(m) = existing {
            let id = m.id;
            let mut am: members::ActiveModel = m.into();
            am.password_hash = Set(Some(hash.clone()));
            am.role = Set(Role::Admin.as_str().into());
            am.active = Set(true);
            am.updated_at = Set(now);
            am.update(&core.db).await?;
            tracing::info!(member.id = id, "admin account ready");
            return Ok(id);
        }
        let inserted = members::ActiveModel {
            name: Set(username.to_string()),
            unit_id: Set(None),
            role: Set(Role::Admin.as_str().into()),
            username: Set(Some(username.to_string())),
            password_hash: Set(Some(hash.clone())),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&core.db)
        .await;
        match inserted {
            Ok(m) => {
                tracing::info!(member.id = m.id, "admin account created");
                return Ok(m.id);
            }
            Err(e) if crate::error::is_unique_violation(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(CoreError::Conflict(
        "could not create the admin account".into(),
    ))
}

/// Starts a session (a refresh-token family) and returns its first pair.
async fn start_session(core: &Core, member: &members::Model) -> CoreResult<TokenPair> {
    let now = core.now();
    let sid = uuid::Uuid::new_v4().to_string();
    sessions::ActiveModel {
        id: Set(sid.clone()),
        member_id: Set(member.id),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(&core.db)
    .await?;
    issue_pair(core, member, &sid).await
}

async fn issue_pair(core: &Core, member: &members::Model, sid: &str) -> CoreResult<TokenPair> {
    let now = core.now();
    let refresh = random_token(32);
    refresh_tokens::ActiveModel {
        session_id: Set(sid.to_string()),
        token_hash: Set(sha256_hex(&refresh)),
        created_at: Set(now),
        expires_at: Set(now + Duration::days(REFRESH_TTL_DAYS)),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(&core.db)
    .await?;
    Ok(TokenPair {
        access_token: core
            .tokens
            .access_token(member.id, &member.role, sid, now)?,
        refresh_token: refresh,
        expires_in: ACCESS_TTL_SECS,
        member: view(&core.db, member.id).await?,
    })
}

pub async fn admin_login(core: &Core, username: &str, pw: &str) -> CoreResult<TokenPair> {
    let mut v = Violations::new();
    v.text(username, "username", 64);
    v.check(!pw.is_empty(), "password", "must not be empty");
    v.check(pw.len() <= 1024, "password", "is too long");
    v.finish()?;
    let bad = || unauthorized("wrong username or password");
    let m = members::Entity::find()
        .filter(members::Column::Username.eq(username.trim()))
        .one(&core.db)
        .await?
        .ok_or_else(bad)?;
    let hash = m.password_hash.clone().ok_or_else(bad)?;
    if !m.active || !password::verify(pw.to_string(), hash).await {
        return Err(bad());
    }
    let role: Role = m.role.parse().unwrap_or(Role::Member);
    if !role.is_manager() {
        return Err(CoreError::Forbidden(
            "password login is for admins and secretaries".into(),
        ));
    }
    tracing::info!(member.id = m.id, "admin logged in");
    start_session(core, &m).await
}

/// Exchanges a `wx.login` code for tokens, or for a bind token when the WeChat account is
/// not yet linked to a roster entry.
pub async fn wechat_login(core: &Core, code: &str) -> CoreResult<LoginOutcome> {
    let mut v = Violations::new();
    v.text(code, "code", 128);
    v.finish()?;
    let client = core.wechat.as_ref().ok_or_else(|| CoreError::Upstream {
        message: "WeChat login is not configured on this server (FINGERTIP_WECHAT_APPID and FINGERTIP_WECHAT_SECRET are unset)".into(),
        unavailable: true,
    })?;
    let session = client.code2session(code.trim()).await.map_err(|e| {
        tracing::warn!(errcode = ?e.errcode(), error = %e, "jscode2session failed");
        match e.class() {
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
pub async fn bind(core: &Core, bind_token: &str, invite_code: &str) -> CoreResult<TokenPair> {
    let mut v = Violations::new();
    v.text(bind_token, "bind_token", 2048);
    v.text(invite_code, "invite_code", 32);
    v.finish()?;
    let openid = core.tokens.verify_bind(bind_token.trim(), core.now())?;
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
    let r = members::Entity::update_many()
        .col_expr(members::Column::WechatOpenid, Expr::value(openid))
        .col_expr(
            members::Column::InviteCode,
            Expr::value(Option::<String>::None),
        )
        .col_expr(members::Column::UpdatedAt, Expr::value(core.now()))
        .filter(members::Column::Id.eq(m.id))
        .filter(members::Column::InviteCode.eq(code))
        .exec(&core.db)
        .await;
    match r {
        Ok(r) if r.rows_affected == 1 => {}
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

async fn revoke_session(core: &Core, sid: &str) -> CoreResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(core.now()))
        .filter(sessions::Column::Id.eq(sid))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&core.db)
        .await?;
    Ok(())
}

/// Rotates a refresh token. Presenting a used one again revokes its whole family.
pub async fn refresh(core: &Core, token: &str) -> CoreResult<TokenPair> {
    let mut v = Violations::new();
    v.text(token, "refresh_token", 256);
    v.finish()?;
    let now = core.now();
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(sha256_hex(token.trim())))
        .one(&core.db)
        .await?
        .ok_or_else(|| unauthorized("the refresh token is not valid"))?;
    let session = sessions::Entity::find_by_id(row.session_id.clone())
        .one(&core.db)
        .await?
        .ok_or_else(|| unauthorized("the refresh token is not valid"))?;
    if session.revoked_at.is_some() {
        return Err(unauthorized("this session has ended; log in again"));
    }
    if row.used_at.is_some() {
        revoke_session(core, &session.id).await?;
        tracing::warn!(session.id = %session.id, member.id = session.member_id, "refresh token reused; session revoked");
        return Err(unauthorized(
            "this refresh token was already used; the session is revoked, log in again",
        ));
    }
    if row.expires_at <= now {
        return Err(unauthorized("the refresh token has expired; log in again"));
    }
    let won = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .exec(&core.db)
        .await?;
    if won.rows_affected == 0 {
        // Two callers raced with the same token: treat it as reuse.
        revoke_session(core, &session.id).await?;
        return Err(unauthorized(
            "this refresh token was already used; the session is revoked, log in again",
        ));
    }
    let m = members::Entity::find_by_id(session.member_id)
        .one(&core.db)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| unauthorized("this member can no longer log in"))?;
    issue_pair(core, &m, &session.id).await
}

/// Ends the session of a refresh token. Unknown tokens are ignored (logging out twice is fine).
pub async fn logout_refresh(core: &Core, token: &str) -> CoreResult<()> {
    if let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(sha256_hex(token.trim())))
        .one(&core.db)
        .await?
    {
        revoke_session(core, &row.session_id).await?;
    }
    Ok(())
}

pub async fn logout_session(core: &Core, sid: &str) -> CoreResult<()> {
    revoke_session(core, sid).await
}

/// Establishes the caller from an access token: valid signature, not expired on our clock,
/// session not revoked, member still active. The role is read fresh from the database.
pub async fn authenticate(core: &Core, token: &str) -> CoreResult<Actor> {
    let claims = core.tokens.verify_access(token, core.now())?;
    let member_id: i64 = claims
        .sub
        .parse()
        .map_err(|_| unauthorized("the access token is not valid"))?;
    let session = sessions::Entity::find_by_id(claims.sid.clone())
        .one(&core.db)
        .await?;
    match session {
        Some(s) if s.revoked_at.is_none() && s.member_id == member_id => {}
        _ => return Err(unauthorized("this session has ended; log in again")),
    }
    let m = members::Entity::find_by_id(member_id)
        .one(&core.db)
        .await?
        .filter(|m| m.active)
        .ok_or_else(|| unauthorized("this member can no longer log in"))?;
    Ok(Actor {
        member_id,
        role: m.role.parse().unwrap_or(Role::Member),
        unit_id: m.unit_id,
        session_id: claims.sid,
    })
}
