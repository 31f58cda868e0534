//! Console passwords for secretaries: an admin makes a one-time link for a secretary (or
//! another admin); whoever opens it chooses the console username and password of that member.
//! A link works once and for three days; a new link replaces the member's older ones. Making a
//! link and using it are audit entries.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::entities::{members, password_links};
use crate::error::{CoreError, CoreResult, Violations};

/// How long a link works.
pub const LINK_TTL_HOURS: i64 = 72;
/// The shortest password a link accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A new link's secret (it goes into the URL) and when it stops working.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

fn gone() -> CoreError {
    CoreError::NotFound("password link")
}

/// An admin's link for `member_id`, an admin or a secretary, to set their console password.
pub async fn create_password_link(
    core: &Core,
    actor: &Actor,
    member_id: i64,
) -> CoreResult<NewLink> {
    crate::access::require_admin(actor, "making password links")?;
    let m = members::Entity::find_by_id(member_id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("member"))?;
    if !m.active || !m.role.is_manager() {
        return Err(CoreError::Conflict(
            "password login is for active admins and secretaries; make the member a secretary first"
                .into(),
        ));
    }
    let now = core.now();
    let token = random_token(32);
    let expires_at = now + Duration::hours(LINK_TTL_HOURS);
    let txn = crate::db::begin_write(&core.db).await?;
    // Only the newest link of a member works.
    password_links::Entity::update_many()
        .col_expr(password_links::Column::UsedAt, Expr::value(now))
        .filter(password_links::Column::MemberId.eq(member_id))
        .filter(password_links::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    password_links::ActiveModel {
        token_hash: Set(sha256_hex(&token)),
        member_id: Set(member_id),
        created_by: Set(Some(actor.member_id)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("member.password_link").target("member", member_id),
    )
    .await?;
    txn.commit().await?;
    Ok(NewLink { token, expires_at })
}

async fn find(core: &Core, token: &str) -> CoreResult<password_links::Model> {
    if token.is_empty() || token.len() > 64 {
        return Err(gone());
    }
    password_links::Entity::find_by_id(sha256_hex(token))
        .one(&core.db)
        .await?
        .filter(|l| l.used_at.is_none() && l.expires_at > core.now())
        .ok_or_else(gone)
}

/// The name of the member a working link is for.
pub async fn password_link_member(core: &Core, token: &str) -> CoreResult<String> {
    let link = find(core, token).await?;
    Ok(members::Entity::find_by_id(link.member_id)
        .one(&core.db)
        .await?
        .ok_or_else(gone)?
        .name)
}

/// Sets the link's member's console username and password, and uses the link up.
pub async fn set_password_by_link(
    core: &Core,
    token: &str,
    username: &str,
    password: &str,
) -> CoreResult<i64> {
    let username = username.trim();
    let mut v = Violations::new();
    v.text(username, "username", 64);
    v.check(
        username.chars().count() >= 3 && !username.chars().any(char::is_whitespace),
        "username",
        "must be 3 to 64 characters without spaces",
    );
    v.check(
        password.chars().count() >= MIN_PASSWORD_CHARS,
        "password",
        "must be at least 10 characters",
    );
    v.check(password.len() <= 1024, "password", "is too long");
    v.finish()?;
    let link = find(core, token).await?;
    let taken = members::Entity::find()
        .filter(members::Column::Username.eq(username))
        .filter(members::Column::Id.ne(link.member_id))
        .one(&core.db)
        .await?;
    if taken.is_some() {
        return Err(CoreError::Conflict(
            "this username is taken; choose another".into(),
        ));
    }
    let hash = core.passwords.hash(password.to_string()).await?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    let won = password_links::Entity::update_many()
        .col_expr(password_links::Column::UsedAt, Expr::value(now))
        .filter(password_links::Column::TokenHash.eq(link.token_hash.clone()))
        .filter(password_links::Column::UsedAt.is_null())
        .filter(password_links::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if won.rows_affected == 0 {
        return Err(gone());
    }
    let m = members::Entity::find_by_id(link.member_id)
        .one(&txn)
        .await?
        .filter(|m| m.active && m.role.is_manager())
        .ok_or_else(gone)?;
    let mut am: members::ActiveModel = m.clone().into();
    am.username = Set(Some(username.to_string()));
    am.password_hash = Set(Some(hash));
    am.update(&txn).await?;
    audit::append(
        &txn,
        now,
        &Who::member(m.id, m.role),
        Event::new("member.password_set").target("member", m.id),
    )
    .await?;
    txn.commit().await?;
    Ok(m.id)
}
