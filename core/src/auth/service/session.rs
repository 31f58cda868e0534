//! Sessions: a refresh-token family per login, rotation with reuse detection, logout, and
//! establishing the caller of a request from an access token.

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::roles::Actor;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::tokens::{ACCESS_TTL_SECS, REFRESH_TTL_DAYS};
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

pub(super) fn unauthorized(msg: &str) -> CoreError {
    CoreError::Unauthorized(msg.to_string())
}

/// Opens a session for the member; returns its id.
pub(super) async fn open_session(core: &Core, member_id: i64) -> CoreResult<String> {
    let sid = uuid::Uuid::new_v4().to_string();
    sessions::ActiveModel {
        id: Set(sid.clone()),
        member_id: Set(member_id),
        created_at: Set(core.now()),
        revoked_at: Set(None),
    }
    .insert(&core.db)
    .await?;
    Ok(sid)
}

/// Starts a session (a refresh-token family) and returns its first pair.
pub(super) async fn start_session(core: &Core, member: &members::Model) -> CoreResult<TokenPair> {
    let sid = open_session(core, member.id).await?;
    issue_pair(core, member, &sid).await
}

pub(super) async fn issue_pair(
    core: &Core,
    member: &members::Model,
    sid: &str,
) -> CoreResult<TokenPair> {
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
            .access_token(member.id, member.role.as_str(), sid, now)?,
        refresh_token: refresh,
        expires_in: ACCESS_TTL_SECS,
        member: view(&core.db, member.id).await?,
    })
}

pub(super) async fn revoke_session(core: &Core, sid: &str) -> CoreResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(core.now()))
        .filter(sessions::Column::Id.eq(sid))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&core.db)
        .await?;
    crate::auth::changes::session_ended(core, sid).await;
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
/// session not revoked, member still active, with their role and unit. What the database says
/// of a session is remembered for at most two seconds (`auth::cache`: ending a session or
/// changing a member reaches every API process sooner, through the pub/sub).
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
    actor_of_session(core, claims.sid, member_id).await
}

/// Establishes the caller of a console request from its session cookie: as [`authenticate`],
/// and the member must still be an admin or a secretary. Returns the session's CSRF value too.
pub async fn authenticate_console(core: &Core, token: &str) -> CoreResult<(Actor, String)> {
    if token.len() > 4096 {
        return Err(unauthorized("the console session is not valid"));
    }
    let claims = core.tokens.verify_console(token, core.now())?;
    let member_id: i64 = claims
        .sub
        .parse()
        .map_err(|_| unauthorized("the console session is not valid"))?;
    let actor = actor_of_session(core, claims.sid, member_id).await?;
    if !actor.role.is_manager() {
        return Err(unauthorized("the console is for admins and secretaries"));
    }
    Ok((actor, claims.csrf))
}

/// The caller behind a session of this member: not revoked, the member active (remembered
/// for at most two seconds, `auth::cache`).
async fn actor_of_session(core: &Core, sid: String, member_id: i64) -> CoreResult<Actor> {
    if let Some(actor) = core.sessions.get(&sid, member_id) {
        return Ok(actor);
    }
    let checked = std::time::Instant::now();
    let epoch = core.sessions.epoch();
    let claims_sid = sid;
    let session = sessions::Entity::find_by_id(claims_sid.clone())
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
    let actor = Actor {
        member_id,
        role: m.role,
        unit_id: m.unit_id,
        session_id: claims_sid,
    };
    core.sessions.put(&actor, checked, epoch);
    Ok(actor)
}
