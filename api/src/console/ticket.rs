//! Logging in to the console by scanning its QR code with the mini-program (WECHAT.md §12).
//!
//! The login page asks the core for a ticket, shows it as a QR code of the mini-program page
//! `pages/console-login/index?ticket=…`, and keeps the ticket's browser key in a cookie. The
//! page's script long-polls `GET /console/login/ticket` (or the person presses the button) and,
//! once the mini-program has approved, posts `POST /console/login/ticket`, which turns the
//! ticket into the console session of whoever approved it.

use std::time::Duration;

use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use fingertip_core::auth::service::{self, NewTicket, TICKET_TTL_SECS, TicketState};
use fingertip_core::{Core, CoreError};
use serde::Deserialize;

use super::{LOGIN_PATH, login_page, see_other, session_cookie};
use crate::extract::client;
use crate::pages::Site;

/// The browser key of the login page's ticket.
pub(super) const TICKET_COOKIE: &str = "ft_console_ticket";
/// The mini-program page a scan opens (its `onLoad` gets `ticket`).
pub const MINI_PROGRAM_PAGE: &str = "pages/console-login/index";
/// Longest a state request waits for an approval.
const LONGEST_WAIT_SECS: u64 = 25;

/// What the login page shows of a ticket.
pub(super) struct QrLogin {
    pub(super) ticket: String,
    /// An inline SVG of the QR code.
    pub(super) svg: String,
}

/// A ticket for a login page: the page's QR code, and the cookie with its browser key.
/// `None` when none can be had now (too many from this address, or the database is busy): the
/// page still offers the password.
pub(super) async fn start(
    core: &Core,
    req: &HttpRequest,
    site: &Site,
) -> Option<(QrLogin, actix_web::cookie::Cookie<'static>)> {
    let NewTicket {
        ticket,
        browser_key,
        ..
    } = match service::start_ticket(core, &client(req)).await {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(error = %e, "no console login ticket for this page");
            return None;
        }
    };
    let svg = crate::pages::qr_svg(&format!("{MINI_PROGRAM_PAGE}?ticket={ticket}"), 200);
    let cookie = site.cookie(
        LOGIN_PATH,
        SameSite::Strict,
        TICKET_COOKIE,
        browser_key,
        TICKET_TTL_SECS,
    );
    Some((QrLogin { ticket, svg }, cookie.into_owned()))
}

#[derive(Deserialize)]
struct StateQuery {
    ticket: String,
    /// Seconds to wait for an approval (0 to 25; default 20).
    wait: Option<u64>,
}

fn state_json(state: TicketState) -> HttpResponse {
    let word = match state {
        TicketState::Pending => "pending",
        TicketState::Approved => "approved",
        TicketState::Gone => "gone",
    };
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(serde_json::json!({ "state": word }))
}

/// Where this browser's ticket stands, waiting (long poll) while nobody has scanned it.
#[get("/console/login/ticket")]
async fn ticket_state(
    req: HttpRequest,
    core: web::Data<Core>,
    q: web::Query<StateQuery>,
) -> HttpResponse {
    let key = req
        .cookie(TICKET_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if let Err(e) = service::count_ticket_poll(&core, &client(&req)).await {
        return actix_web::ResponseError::error_response(&crate::error::ApiError::from(e));
    }
    let wait = Duration::from_secs(q.wait.unwrap_or(20).min(LONGEST_WAIT_SECS));
    let until = tokio::time::Instant::now() + wait;
    loop {
        match service::ticket_state(&core, &q.ticket, &key).await {
            Ok(TicketState::Pending) if tokio::time::Instant::now() < until => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(state) => return state_json(state),
            Err(e) => {
                return actix_web::ResponseError::error_response(&crate::error::ApiError::from(e));
            }
        }
    }
}

/// The approved ticket becomes this browser's console session.
#[post("/console/login/ticket")]
async fn finish(req: HttpRequest, core: web::Data<Core>, body: web::Bytes) -> HttpResponse {
    let site = Site::of(&core, &req);
    let form = super::form(&body);
    let ticket = form.get("ticket").map_or("", String::as_str);
    let key = req
        .cookie(TICKET_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    match service::finish_ticket(&core, ticket, &key, &client(&req)).await {
        Ok(s) => {
            let mut resp = see_other(&format!("{}/console/", site.prefix))
                .cookie(session_cookie(&site, s.token, s.expires_in))
                .finish();
            let _ =
                resp.add_removal_cookie(&site.expired(LOGIN_PATH, SameSite::Strict, TICKET_COOKIE));
            resp
        }
        Err(CoreError::NotFound(_)) => {
            login_page(
                &core,
                &req,
                &site,
                StatusCode::BAD_REQUEST,
                "",
                Some("二维码已过期或尚未在小程序中确认，请重新扫码。"),
            )
            .await
        }
        Err(e) => super::refused(&core, &req, &site, "", e).await,
    }
}

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ticket_state).service(finish);
}
