//! Logging in to the web console by scanning a QR code with the mini-program (WECHAT.md §12):
//! the console asks for a ticket and shows it as a QR code; the secretary, signed in on the
//! mini-program, approves it with their own access token; the browser that asked (and only
//! that one: it holds the browser key, in a cookie) turns the approved ticket into a console
//! session. A ticket lives two minutes and works once; an unknown, expired or used ticket is
//! refused without saying which. The approval and the login are audit entries.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::login::{Client, ConsoleSession, console_session, key};
use crate::Core;
use crate::audit::{self, Event, Who};
use crate::auth::Actor;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::entities::{console_tickets, members};
use crate::error::{CoreError, CoreResult, Violations};
use crate::ports::throttle::{self, Rule};

/// How long a ticket can be approved and used.
pub const TICKET_TTL_SECS: i64 = 120;
/// Tickets one address may ask for: a login page reloaded now and then is far below it.
pub const TICKETS_PER_ADDRESS: Rule = Rule {
    max: 60,
    window_secs: 600,
};
/// Questions about a ticket's state one address may ask: a login page waiting two minutes asks
/// about 6 (each waits up to 20 s).
pub const TICKET_POLLS_PER_ADDRESS: Rule = Rule {
    max: 300,
    window_secs: 600,
};
/// Longest ticket accepted (ours are 22 characters; a mini-program code's `scene` holds 32).
const MAX_TICKET: usize = 32;

/// A new ticket: `ticket` goes into the QR code, `browser_key` into the asking browser's
/// cookie.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub ticket: String,
    pub browser_key: String,
    pub expires_at: DateTime<Utc>,
}

/// Where a ticket stands, as its browser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    /// Waiting for a scan.
    Pending,
    /// Approved: the browser may finish the login.
    Approved,
    /// Expired, used, unknown, or not this browser's.
    Gone,
}

fn gone() -> CoreError {
    CoreError::NotFound("login ticket")
}

/// A fresh ticket for a console login page.
pub async fn start_ticket(core: &Core, client: &Client) -> CoreResult<NewTicket> {
    let now = core.now();
    throttle::check(
        core.throttle.as_ref(),
        &key("console-ticket:addr", &client.address),
        TICKETS_PER_ADDRESS,
        now,
        "too many login codes asked for; wait a little and reload",
    )
    .await?;
    // Old tickets go as new ones come: nothing else needs them.
    console_tickets::Entity::delete_many()
        .filter(console_tickets::Column::ExpiresAt.lt(now - Duration::hours(1)))
        .exec(&core.db)
        .await?;
    let ticket = random_token(16);
    let browser_key = random_token(32);
    let expires_at = now + Duration::seconds(TICKET_TTL_SECS);
    console_tickets::ActiveModel {
        ticket_hash: Set(sha256_hex(&ticket)),
        browser_hash: Set(sha256_hex(&browser_key)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        approved_by: Set(None),
        approved_at: Set(None),
        used_at: Set(None),
    }
    .insert(&core.db)
    .await?;
    Ok(NewTicket {
        ticket,
        browser_key,
        expires_at,
    })
}

/// The mini-program's approval: the signed-in member, an admin or a secretary, logs the
/// browser showing `ticket` in as themselves.
pub async fn approve_ticket(core: &Core, actor: &Actor, ticket: &str) -> CoreResult<()> {
    let mut v = Violations::new();
    v.text(ticket, "ticket", MAX_TICKET);
    v.finish()?;
    if !actor.role.is_manager() {
        return Err(CoreError::Forbidden(
            "the console is for admins and secretaries".into(),
        ));
    }
    let now = core.now();
    let hash = sha256_hex(ticket.trim());
    let txn = crate::db::begin_write(&core.db).await?;
    let won = console_tickets::Entity::update_many()
        .col_expr(
            console_tickets::Column::ApprovedBy,
            Expr::value(actor.member_id),
        )
        .col_expr(console_tickets::Column::ApprovedAt, Expr::value(now))
        .filter(console_tickets::Column::TicketHash.eq(hash))
        .filter(console_tickets::Column::ApprovedBy.is_null())
        .filter(console_tickets::Column::UsedAt.is_null())
        .filter(console_tickets::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if won.rows_affected == 0 {
        return Err(gone());
    }
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("auth.console_ticket_approved").target("member", actor.member_id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn find(core: &Core, ticket: &str, browser_key: &str) -> CoreResult<console_tickets::Model> {
    if ticket.len() > MAX_TICKET || browser_key.len() > 64 {
        return Err(gone());
    }
    console_tickets::Entity::find_by_id(sha256_hex(ticket))
        .one(&core.db)
        .await?
        .filter(|t| t.browser_hash == sha256_hex(browser_key))
        .ok_or_else(gone)
}

/// Counts one question about a ticket's state from `client` (429 past
/// [`TICKET_POLLS_PER_ADDRESS`]); the waiting that follows asks [`ticket_state`].
pub async fn count_ticket_poll(core: &Core, client: &Client) -> CoreResult<()> {
    throttle::check(
        core.throttle.as_ref(),
        &key("console-ticket-poll:addr", &client.address),
        TICKET_POLLS_PER_ADDRESS,
        core.now(),
        "too many questions about login codes; wait a little and reload",
    )
    .await
}

/// Where the browser's ticket stands.
pub async fn ticket_state(core: &Core, ticket: &str, browser_key: &str) -> CoreResult<TicketState> {
    let t = match find(core, ticket, browser_key).await {
        Ok(t) => t,
        Err(CoreError::NotFound(_)) => return Ok(TicketState::Gone),
        Err(e) => return Err(e),
    };
    Ok(if t.used_at.is_some() || t.expires_at <= core.now() {
        TicketState::Gone
    } else if t.approved_by.is_some() {
        TicketState::Approved
    } else {
        TicketState::Pending
    })
}

/// The browser's approved ticket, turned into a console session for whoever approved it.
pub async fn finish_ticket(
    core: &Core,
    ticket: &str,
    browser_key: &str,
    client: &Client,
) -> CoreResult<ConsoleSession> {
    let t = find(core, ticket, browser_key).await?;
    let now = core.now();
    let Some(member_id) = t.approved_by else {
        return Err(gone());
    };
    let member = members::Entity::find_by_id(member_id)
        .one(&core.db)
        .await?
        .filter(|m| m.active && m.role.is_manager())
        .ok_or_else(|| CoreError::Forbidden("the console is for admins and secretaries".into()))?;
    let txn = crate::db::begin_write(&core.db).await?;
    let won = console_tickets::Entity::update_many()
        .col_expr(console_tickets::Column::UsedAt, Expr::value(now))
        .filter(console_tickets::Column::TicketHash.eq(t.ticket_hash.clone()))
        .filter(console_tickets::Column::UsedAt.is_null())
        .filter(console_tickets::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    if won.rows_affected == 0 {
        return Err(gone());
    }
    audit::append(
        &txn,
        now,
        &Who::member(member.id, member.role),
        Event::new("auth.login")
            .target("member", member.id)
            .summary(json!({"method": "console_qr", "address": client.address})),
    )
    .await?;
    txn.commit().await?;
    console_session(core, member.id).await
}
