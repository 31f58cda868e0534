//! Password login for admins and secretaries, throttled per address and per username.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::session::TokenPair;
use super::session::unauthorized;
use super::session::{open_session, start_session};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::roles::Role;
use crate::auth::secrets::sha256_hex;
use crate::auth::tokens::CONSOLE_TTL_SECS;
use crate::entities::members;
use crate::error::{CoreError, CoreResult, Violations};
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
pub(super) fn key(kind: &str, value: &str) -> String {
    format!("{kind}:{}", &sha256_hex(value)[..32])
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
    let m = check_password(core, username, pw, client, "password").await?;
    start_session(core, &m).await
}

/// A web console session, opened by the same password check as [`admin_login`].
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub member_id: i64,
    /// The session cookie's value.
    pub token: String,
    /// What the console's forms send back (also inside `token`).
    pub csrf: String,
    pub expires_in: i64,
}

/// Password login to the web console: the checks, limits and audit entries of
/// [`admin_login`] (`method: "console"`), and a console session instead of API tokens.
pub async fn console_login(
    core: &Core,
    username: &str,
    pw: &str,
    client: &Client,
) -> CoreResult<ConsoleSession> {
    let m = check_password(core, username, pw, client, "console").await?;
    console_session(core, m.id).await
}

/// Opens a console session for the member (whose right to one the caller has checked).
pub(super) async fn console_session(core: &Core, member_id: i64) -> CoreResult<ConsoleSession> {
    let sid = open_session(core, member_id).await?;
    let csrf = crate::auth::secrets::random_token(16);
    Ok(ConsoleSession {
        member_id,
        token: core
            .tokens
            .console_token(member_id, &sid, &csrf, core.now())?,
        csrf,
        expires_in: CONSOLE_TTL_SECS,
    })
}

/// The member whose password this is, if they may log in with one: throttled, one argon2
/// check whatever the username, every refusal and the success in the audit log.
async fn check_password(
    core: &Core,
    username: &str,
    pw: &str,
    client: &Client,
    method: &str,
) -> CoreResult<members::Model> {
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
    let role: Option<Role> = found.as_ref().map(|m| m.role);
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
            .summary(json!({"method": method, "address": client.address})),
    )
    .await?;
    tracing::info!(member.id = m.id, method, "admin logged in");
    Ok(m)
}
