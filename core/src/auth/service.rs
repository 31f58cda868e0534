//! Logins, token rotation, logout, binding a WeChat account, and authenticating a request.

use chrono::Duration;
use fingertip_wechat::ErrorClass;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use serde_json::json;

use super::roles::{Actor, Role};
use super::secrets::{normalize_invite_code, random_token, sha256_hex};
use super::tokens::{ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::entities::{members, refresh_tokens, sessions};
use crate::error::{CoreError, CoreResult, Violations};
use crate::org::members::{MemberView, view};
use crate::ports::throttle::{self, Rule};

/// Password logins per client address: a person retyping is far below it.
pub const LOGINS_PER_ADDRESS: Rule = Rule {
    max: 20,
    window_secs: 60,
};
/// Password logins per username, whoever tries: a guesser gets 10 tries a quarter hour.
pub const LOGINS_PER_USERNAME: Rule = Rule {
    max: 10,
    window_secs: 15 * 60,
};
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

/// The client's address as the API established it (the peer, or the proxy's forwarded one
/// when configured), for the abuse limits and the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    pub address: String,
}

impl Client {
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
        }
    }
}

/// A throttle key that does not carry user input as it is (a username can be anything).
fn key(kind: &str, value: &str) -> String {
    format!("{kind}:{}", &sha256_hex(value)[..32])
}

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
    for _ in 0..3 {
        let now = core.now();
        let existing = members::Entity::find()
            .filter(members::Column::Username.eq(username))
            .one(&core.db)
            .await?;
        if let Some(m) = existing {
            let id = m.id;
            let unchanged = m.active
                && m.role == Role::Admin.as_str()
                && core
                    .passwords
                    .verify(pw.to_string(), m.password_hash.clone())
                    .await?;
            if unchanged {
                tracing::info!(member.id = id, "admin account ready");
                return Ok(id);
            }
            let hash = core.passwords.hash(pw.to_string()).await?;
            let mut am: members::ActiveModel = m.into();
            am.password_hash = Set(Some(hash));
            am.role = Set(Role::Admin.as_str().into());
            am.active = Set(true);
            am.updated_at = Set(now);
            let txn = crate::db::begin_write(&core.db).await?;
            am.update(&txn).await?;
            audit::append(
                &txn,
                now,
                &Who::system(),
                Event::new("member.update")
                    .target("member", id)
                    .summary(json!({
                        "via": "bootstrap",
                        "username": username,
                        "password": "set from FINGERTIP_ADMIN_PASSWORD",
                        "role": "admin",
                        "active": true,
                    })),
            )
            .await?;
            txn.commit().await?;
            tracing::info!(member.id = id, "admin account reset from the configuration");
            return Ok(id);
        }
        let hash = core.passwords.hash(pw.to_string()).await?;
        let txn = crate::db::begin_write(&core.db).await?;
        let inserted = members::ActiveModel {
            name: Set(username.to_string()),
            unit_id: Set(None),
            role: Set(Role::Admin.as_str().into()),
            username: Set(Some(username.to_string())),
            password_hash: Set(Some(hash)),
            active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await;
        match inserted {
            Ok(m) => {
                audit::append(
                    &txn,
                    now,
                    &Who::system(),
                    Event::new("member.create").target("member", m.id).summary(
                        json!({"via": "bootstrap", "username": username, "role": "admin"}),
                    ),
                )
                .await?;
                txn.commit().await?;
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

/// Password login for admins and secretaries. Throttled per client address and per
/// username (429 with `Retry-After`); an unknown username costs the same work as a known one;
/// every attempt that gets as far as the password is in the audit log.
pub async fn admin_login(
    core: &Core,
    username: &str,
    pw: &str,
    client: &Client,
) -> CoreResult<TokenPair> {
    let mut v = Violations::new();
    v.text(username, "username", 64);
    v.check(!pw.is_empty(), "password", "must not be empty");
    v.check(pw.len() <= 1024, "password", "is too long");
    v.finish()?;
    let username = username.trim();
    let now = core.now();
    let slow_down = "too many login attempts; wait a little and try again";
    throttle::check(
        core.throttle.as_ref(),
        &key("login:addr", &client.address),
        LOGINS_PER_ADDRESS,
        now,
        slow_down,
    )
    .await?;
    throttle::check(
        core.throttle.as_ref(),
        &key("login:user", &username.to_lowercase()),
        LOGINS_PER_USERNAME,
        now,
        slow_down,
    )
    .await?;
    let found = members::Entity::find()
        .filter(members::Column::Username.eq(username))
        .one(&core.db)
        .await?;
    let stored = found.as_ref().and_then(|m| m.password_hash.clone());
    // Always one argon2 check, against a dummy hash when there is no account.
    let password_ok = core.passwords.verify(pw.to_string(), stored).await?;
    let role: Option<Role> = found.as_ref().and_then(|m| m.role.parse().ok());
    let refusal = match &found {
        None => Some("unknown_username"),
        Some(_) if !password_ok => Some("wrong_password"),
        Some(m) if !m.active => Some("inactive"),
        Some(_) if !role.is_some_and(Role::is_manager) => Some("not_a_manager"),
        Some(_) => None,
    };
    if let Some(reason) = refusal {
        let mut e = Event::new("auth.login_failed").summary(json!({
            "username": username.chars().take(64).collect::<String>(),
            "reason": reason,
            "address": client.address,
        }));
        if let Some(m) = &found {
            e = e.target("member", m.id);
        }
        audit::record(core, &Who::anonymous(), e).await?;
        tracing::info!(reason, "password login refused");
        return Err(if reason == "not_a_manager" {
            CoreError::Forbidden("password login is for admins and secretaries".into())
        } else {
            unauthorized("wrong username or password")
        });
    }
    let (Some(m), Some(role)) = (found, role) else {
        return Err(unauthorized("wrong username or password"));
    };
    audit::record(
        core,
        &Who::member(m.id, role),
        Event::new("auth.login")
            .target("member", m.id)
            .summary(json!({"method": "password", "address": client.address})),
    )
    .await?;
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
            let role = m.role.parse().unwrap_or(Role::Member);
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
        audit::record(
            core,
            &Who::anonymous(),
            Event::new("auth.session_revoked")
                .target("member", session.member_id)
                .summary(json!({"reason": "refresh token reused"})),
        )
        .await?;
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
    let mut v = Violations::new();
    v.text(token, "refresh_token", 256);
    v.finish()?;
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
    // Ours are a few hundred bytes; a huge one is not decoded at all.
    if token.len() > 4096 {
        return Err(unauthorized("the access token is not valid"));
    }
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
