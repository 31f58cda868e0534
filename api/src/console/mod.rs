//! The web console for secretaries and admins at `/console/` (issue 12), served by the same
//! binary: HTML rendered on the server (askama templates in `api/templates/console/`), one
//! stylesheet, and three small scripts that only improve pages which work without them (the QR
//! login's wait, a broadcast's live counts, the composer's live preview); no build step.
//! Everything it does goes through the core services with the signed-in member as the actor,
//! as the JSON API does, so a secretary sees exactly their subtree and every change is in the
//! audit log.
//!
//! The pages: login with a password or by scanning a QR code with the mini-program
//! ([`ticket`]) and logout; the home page (this month's broadcasts with read rates and failed
//! pushes, the meetings coming up with the answers so far, the members who have not bound
//! WeChat); the composer ([`compose`]); a broadcast's page with live counts, recipients, the
//! remind and cancel buttons ([`broadcast`]); the roster with its printable invite sheet
//! ([`roster`]), a member's page, adding a member and the CSV import ([`members`]); the
//! meetings, each one's record and the projector's check-in screen ([`meetings`]), their forms
//! ([`meeting_form`]) and what is done from a meeting's page ([`meeting_actions`]); the audit
//! log for admins ([`audit`]); study hours ([`study`]); the meeting calendar kept on time
//! ([`calendar`]); and the secretaries' password links ([`password`]).
//!
//! Security: the session is a console token (`typ: console`, 8 hours) in an HttpOnly,
//! `SameSite=Strict` cookie scoped to `/console` (`Secure` when the public URL is https). Every
//! form carries a CSRF value: the session's own (inside its token) once signed in, and a
//! double-submit cookie on the login form. Pages allow no script ([`CSP`]).

use actix_web::cookie::SameSite;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use fingertip_core::auth::Actor;
use fingertip_core::auth::service;
use fingertip_core::broadcasts::Status;
use fingertip_core::console::{self, Home};
use fingertip_core::{Core, CoreError};

use crate::error::ApiError;
use crate::extract::client;
use crate::pages::{Site, failure_worded, html_with};

/// Every console route, as (method, path pattern): listed in the console's access test.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/console"),
    ("GET", "/console/"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console/login/ticket"),
    ("POST", "/console/login/ticket"),
    ("POST", "/console/logout"),
    ("GET", "/console/static/console.css"),
    ("GET", "/console/static/console-login.js"),
    ("GET", "/console/roster"),
    ("GET", "/console/roster/invites"),
    ("GET", "/console/broadcasts/{id}"),
    ("GET", "/console/broadcasts/{id}/stats"),
    ("POST", "/console/broadcasts/{id}/remind"),
    ("POST", "/console/broadcasts/{id}/cancel"),
    ("GET", "/console/static/console-broadcast.js"),
    ("GET", "/console/audit"),
    ("GET", "/console/meetings"),
    ("GET", "/console/meetings/{id}"),
    ("GET", "/console/meetings/{id}/checkin"),
    ("GET", "/console/meetings/{id}/attendance.csv"),
    ("GET", "/console/password"),
    ("POST", "/console/password"),
    ("GET", "/console/compose"),
    ("POST", "/console/compose"),
    ("POST", "/console/compose/preview"),
    ("GET", "/console/static/console-compose.js"),
    ("GET", "/console/members/new"),
    ("POST", "/console/members/new"),
    ("GET", "/console/members/{id}"),
    ("POST", "/console/members/{id}"),
    ("POST", "/console/members/{id}/password-link"),
    ("GET", "/console/roster/import"),
    ("POST", "/console/roster/import"),
    ("GET", "/console/meetings/new"),
    ("POST", "/console/meetings/new"),
    ("GET", "/console/meetings/{id}/edit"),
    ("POST", "/console/meetings/{id}/edit"),
    ("POST", "/console/meetings/{id}/cancel"),
    ("POST", "/console/meetings/{id}/attendance"),
    ("POST", "/console/meetings/{id}/minutes"),
    ("POST", "/console/meetings/{id}/make-up"),
    ("POST", "/console/meeting-series/{id}/cancel"),
    ("POST", "/console/units"),
    ("GET", "/console/study"),
    ("GET", "/console/study.csv"),
    ("GET", "/console/members/{id}/study"),
    ("POST", "/console/members/{id}/study"),
    ("POST", "/console/study/records/{id}/delete"),
    ("GET", "/console/calendar"),
];

/// The console's pages: their own stylesheet, no script, forms only to this site.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Pages with a script of ours (the login page's wait for the QR code's approval, a
/// broadcast's live counts): the same, and scripts and requests to this site only.
pub const SCRIPT_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                             script-src 'self'; connect-src 'self'; form-action 'self'; \
                             frame-ancestors 'none'; base-uri 'none'";

const SESSION_COOKIE: &str = "ft_console";
const LOGIN_COOKIE: &str = "ft_console_login";
/// How long a login form stays good.
const LOGIN_FORM_SECS: i64 = 3600;
const STYLESHEET: &str = include_str!("../../static/console.css");
const LOGIN_SCRIPT: &str = include_str!("../../static/console-login.js");
const BROADCAST_SCRIPT: &str = include_str!("../../static/console-broadcast.js");
/// Where the login page and its cookies live.
const LOGIN_PATH: &str = "/console/login";

mod audit;
mod broadcast;
mod calendar;
mod compose;
mod fields;
mod meeting_actions;
mod meeting_form;
mod meetings;
mod members;
mod password;
mod problem;
mod roster;
mod study;
mod ticket;
mod words;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(root)
        .service(home)
        .service(login_form)
        .service(login)
        .service(logout)
        .service(stylesheet)
        .service(login_script)
        .configure(ticket::configure)
        .configure(members::configure)
        .configure(roster::configure)
        .configure(broadcast::configure)
        .configure(audit::configure)
        .configure(meeting_form::configure)
        .configure(meeting_actions::configure)
        .configure(meetings::configure)
        .configure(password::configure)
        .configure(study::configure)
        .configure(calendar::configure)
        .configure(compose::configure)
        .service(broadcast_script);
}

pub(super) fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::SeeOther();
    b.insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    b
}

/// The signed-in admin or secretary and their session's CSRF value; `Ok(None)` when there is
/// no (valid) session.
pub(super) async fn signed_in(
    core: &Core,
    req: &HttpRequest,
) -> Result<Option<(Actor, String)>, CoreError> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    match service::authenticate_console(core, &token).await {
        Ok(s) => Ok(Some(s)),
        Err(CoreError::Unauthorized(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a console user is told for an error of the API's classification.
pub(super) fn wording(code: &str, status: StatusCode) -> (&'static str, &'static str) {
    match code {
        "not_found" => ("找不到", "没有这条记录，或它不在您管理的范围内。"),
        "forbidden" => (
            "无权操作",
            "这项操作不在您的权限之内，或页面已过期：请返回后重试。",
        ),
        "conflict" => (
            "无法完成",
            "当前状态下不能进行这项操作（例如会议已结束，或广播已取消）。",
        ),
        "validation_failed" => ("输入有误", "请检查填写的内容后重试。"),
        "rate_limited" => ("请稍后再试", "操作太频繁了，请稍后再试。"),
        "upstream_unavailable" if status == StatusCode::BAD_GATEWAY => {
            ("外部服务出错", "微信或企业微信的设置有误，请联系管理员。")
        }
        "upstream_unavailable" | "unavailable" => ("服务暂时不可用", "请稍后再试。"),
        _ => ("出错了", "服务器出了点问题，已经记录，请稍后再试。"),
    }
}

/// The page for an error on a console page, in the console's words.
pub(super) fn failure(e: &ApiError, retry: Option<String>) -> HttpResponse {
    failure_worded(e, retry, wording)
}

/// The signed-in admin or secretary of a console page, as an extractor. Without a session the
/// request is answered with a 303 to the login form; when the check itself fails (the
/// database, say), with that error's page.
pub(super) struct Console {
    pub(super) site: Site,
    pub(super) actor: Actor,
    /// The session's CSRF value, which the page's forms send back.
    pub(super) csrf: String,
}

/// Why a console page is not shown.
#[derive(Debug)]
pub(super) enum NotSignedIn {
    /// To the login form at this address.
    Login(String),
    Failed(ApiError),
}

impl std::fmt::Display for NotSignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotSignedIn::Login(_) => f.write_str("not signed in to the console"),
            NotSignedIn::Failed(e) => e.fmt(f),
        }
    }
}

impl actix_web::ResponseError for NotSignedIn {
    fn status_code(&self) -> StatusCode {
        match self {
            NotSignedIn::Login(_) => StatusCode::SEE_OTHER,
            NotSignedIn::Failed(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            NotSignedIn::Login(to) => see_other(to).finish(),
            NotSignedIn::Failed(e) => failure(e, None),
        }
    }
}

impl actix_web::FromRequest for Console {
    type Error = NotSignedIn;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let core = req.app_data::<web::Data<Core>>().cloned().ok_or_else(|| {
                NotSignedIn::Failed(ApiError::Core(CoreError::Internal(
                    "application state missing".into(),
                )))
            })?;
            let site = Site::of(&core, &req);
            match signed_in(&core, &req).await {
                Ok(Some((actor, csrf))) => Ok(Console { site, actor, csrf }),
                Ok(None) => Err(NotSignedIn::Login(format!("{}{LOGIN_PATH}", site.prefix))),
                Err(e) => Err(NotSignedIn::Failed(e.into())),
            }
        })
    }
}

/// What every console page's frame shows: the page's title, the site's path prefix, the
/// session's CSRF value (for the logout button), who is signed in and which tab is open.
pub(super) struct Frame {
    pub(super) title: String,
    pub(super) prefix: String,
    pub(super) csrf: String,
    pub(super) who: String,
    pub(super) here: &'static str,
    /// Whether the admin-only tabs (the audit log) are shown.
    pub(super) admin: bool,
}

impl Frame {
    /// The frame of a page of the signed-in `actor`.
    pub(super) async fn of(
        core: &Core,
        actor: &Actor,
        site: &Site,
        csrf: String,
        here: &'static str,
        title: &str,
    ) -> Result<Self, CoreError> {
        let who = fingertip_core::org::members::view(&core.db, actor.member_id)
            .await?
            .name;
        Ok(Self {
            title: title.into(),
            prefix: site.prefix.clone(),
            csrf,
            who,
            here,
            admin: actor.role == fingertip_core::auth::Role::Admin,
        })
    }

    /// The frame of a page shown before anyone signs in.
    fn bare(site: &Site, title: &str) -> Self {
        Self {
            title: title.into(),
            prefix: site.prefix.clone(),
            csrf: String::new(),
            who: String::new(),
            here: "",
            admin: false,
        }
    }
}

/// Why a form without the session's CSRF value is refused.
pub(super) const FORGED: &str = "the form did not come from this console";

/// The 403 page for a form without the session's CSRF value (an old page, or another site's
/// form), with the way back to `back`.
pub(super) fn forged(back: String) -> HttpResponse {
    failure(
        &ApiError::Core(CoreError::Forbidden(FORGED.into())),
        Some(back),
    )
}

/// The form's fields, from an `application/x-www-form-urlencoded` body.
pub(super) fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

#[get("/console")]
async fn root(req: HttpRequest, core: web::Data<Core>) -> HttpResponse {
    let site = Site::of(&core, &req);
    see_other(&format!("{}/console/", site.prefix)).finish()
}

/// One of the console's files (`api/static/`, built into the binary), cached for an hour.
pub(super) fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

#[get("/console/static/console.css")]
async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

#[get("/console/static/console-login.js")]
async fn login_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", LOGIN_SCRIPT)
}

#[get("/console/static/console-broadcast.js")]
async fn broadcast_script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", BROADCAST_SCRIPT)
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    frame: Frame,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    qr: Option<ticket::QrLogin>,
}

/// The console session's cookie.
fn session_cookie(site: &Site, token: String, max_age: i64) -> actix_web::cookie::Cookie<'static> {
    site.cookie("/console", SameSite::Strict, SESSION_COOKIE, token, max_age)
        .into_owned()
}

/// The login page: the password form, with a fresh CSRF value in a cookie and in the form, and
/// a fresh QR code to scan with the mini-program.
async fn login_page(
    core: &Core,
    req: &HttpRequest,
    site: &Site,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let csrf = service::sign_in_state();
    let (qr, qr_cookie) = match ticket::start(core, req, site).await {
        Some((qr, cookie)) => (Some(qr), Some(cookie)),
        None => (None, None),
    };
    let mut resp = html_with(
        status,
        &LoginPage {
            frame: Frame::bare(site, "登录"),
            csrf: &csrf,
            username,
            error,
            qr,
        },
        SCRIPT_CSP,
    );
    let _ = resp.add_cookie(&site.cookie(
        LOGIN_PATH,
        SameSite::Strict,
        LOGIN_COOKIE,
        csrf,
        LOGIN_FORM_SECS,
    ));
    if let Some(c) = qr_cookie {
        let _ = resp.add_cookie(&c);
    }
    resp
}

/// The login page again, saying why a login was refused (with the API's status and
/// `Retry-After`).
async fn refused(
    core: &Core,
    req: &HttpRequest,
    site: &Site,
    username: &str,
    e: CoreError,
) -> HttpResponse {
    let e = ApiError::from(e);
    let status = actix_web::ResponseError::status_code(&e);
    let mut page = login_page(core, req, site, status, username, Some(refusal(e.code()))).await;
    let json = actix_web::ResponseError::error_response(&e);
    if let Some(after) = json.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, after.clone());
    }
    page
}

#[get("/console/login")]
async fn login_form(req: HttpRequest, core: web::Data<Core>) -> HttpResponse {
    let site = Site::of(&core, &req);
    match signed_in(&core, &req).await {
        Ok(Some(_)) => see_other(&format!("{}/console/", site.prefix)).finish(),
        Ok(None) => login_page(&core, &req, &site, StatusCode::OK, "", None).await,
        Err(e) => failure(&e.into(), None),
    }
}

/// What a refused login is told, by the API's stable code.
fn refusal(code: &str) -> &'static str {
    match code {
        "unauthorized" => "用户名或密码不正确。",
        "forbidden" => "密码登录仅供管理员和支部书记使用。",
        "rate_limited" => "尝试次数过多，请稍后再试。",
        "validation_failed" => "请填写用户名和密码。",
        "unavailable" | "upstream_unavailable" => "服务暂时不可用，请稍后再试。",
        _ => "登录失败，请稍后再试。",
    }
}

#[post("/console/login")]
async fn login(req: HttpRequest, core: web::Data<Core>, body: web::Bytes) -> HttpResponse {
    let site = Site::of(&core, &req);
    let f = form(&body);
    let field = |k: &str| f.get(k).map_or("", String::as_str);
    let expected = req.cookie(LOGIN_COOKIE).map(|c| c.value().to_string());
    if expected.is_none_or(|e| e.is_empty() || e != field("csrf")) {
        // An old form, or a form another site posted: show a fresh one.
        return login_page(
            &core,
            &req,
            &site,
            StatusCode::BAD_REQUEST,
            field("username"),
            Some("登录页面已过期，请重新输入。"),
        )
        .await;
    }
    match service::console_login(&core, field("username"), field("password"), &client(&req)).await {
        Ok(s) => {
            let mut resp = see_other(&format!("{}/console/", site.prefix))
                .cookie(session_cookie(&site, s.token, s.expires_in))
                .finish();
            let _ =
                resp.add_removal_cookie(&site.expired(LOGIN_PATH, SameSite::Strict, LOGIN_COOKIE));
            resp
        }
        Err(e) => refused(&core, &req, &site, field("username"), e).await,
    }
}

#[post("/console/logout")]
async fn logout(req: HttpRequest, core: web::Data<Core>, body: web::Bytes) -> HttpResponse {
    let site = Site::of(&core, &req);
    let to_login = format!("{}/console/login", site.prefix);
    let (actor, csrf) = match signed_in(&core, &req).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other(&to_login).finish(),
        Err(e) => return failure(&e.into(), None),
    };
    if form(&body).get("csrf") != Some(&csrf) {
        return forged(format!("{}/console/", site.prefix));
    }
    if let Err(e) = service::logout_session(&core, &actor.session_id).await {
        return failure(&e.into(), None);
    }
    let mut resp = see_other(&to_login).finish();
    let _ = resp.add_removal_cookie(&site.expired("/console", SameSite::Strict, SESSION_COOKIE));
    resp
}

struct BroadcastRow {
    id: i64,
    title: String,
    urgent: bool,
    status: &'static str,
    when: String,
    delivered: u64,
    read: u64,
    read_pct: u64,
    failed: u64,
}

struct MeetingRow {
    id: i64,
    kind: &'static str,
    title: String,
    when: String,
    place: String,
    attending: u64,
    leave: u64,
    no_answer: u64,
}

struct Failed {
    title: String,
    failed: u64,
}

struct Unbound {
    name: String,
    invite_code: Option<String>,
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    frame: Frame,
    scope: String,
    month: String,
    broadcasts: Vec<BroadcastRow>,
    meetings: Vec<MeetingRow>,
    failed: Vec<Failed>,
    unbound: Vec<Unbound>,
    unbound_more: bool,
}

pub(super) fn status_label(s: Status) -> &'static str {
    match s {
        Status::Scheduled => "待发送",
        Status::Sending => "发送中",
        Status::Sent => "已发送",
        Status::Canceled => "已取消",
        Status::Failed => "失败",
    }
}

fn home_page(core: &Core, actor: &Actor, site: &Site, csrf: String, h: Home) -> HomePage {
    let tz = core.settings.timezone;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%m月%d日 %H:%M").to_string();
    let mut failed = Vec::new();
    let broadcasts = h
        .broadcasts
        .into_iter()
        .map(|l| {
            let b = l.broadcast;
            let s = l.stats;
            let push_failed = s.push.wechat.failed + s.push.wecom.failed;
            if push_failed > 0 {
                failed.push(Failed {
                    title: b.title.clone(),
                    failed: push_failed,
                });
            }
            BroadcastRow {
                id: b.id,
                read_pct: (s.read * 100).checked_div(s.delivered).unwrap_or(0),
                title: b.title,
                urgent: b.urgent,
                status: status_label(b.status),
                when: local(b.sent_at.unwrap_or(b.send_at)),
                delivered: s.delivered,
                read: s.read,
                failed: push_failed,
            }
        })
        .collect();
    let meetings = h
        .meetings
        .into_iter()
        .map(|l| {
            let m = l.meeting.row;
            MeetingRow {
                id: m.id,
                kind: fingertip_core::meetings::kind_label(m.kind),
                when: local(m.starts_at),
                place: m.place.unwrap_or_default(),
                title: m.title,
                attending: l.counts.attending,
                leave: l.counts.leave,
                no_answer: l.counts.no_answer,
            }
        })
        .collect();
    HomePage {
        frame: Frame {
            title: "首页".into(),
            prefix: site.prefix.clone(),
            csrf,
            who: h.name,
            here: "home",
            admin: actor.role == fingertip_core::auth::Role::Admin,
        },
        scope: h.unit_name.unwrap_or_else(|| "全部单位".into()),
        month: core.now().with_timezone(&tz).format("%Y年%m月").to_string(),
        broadcasts,
        meetings,
        failed,
        unbound: h
            .unbound
            .into_iter()
            .map(|m| Unbound {
                name: m.name,
                invite_code: m.invite_code,
            })
            .collect(),
        unbound_more: h.unbound_more,
    }
}

#[get("/console/")]
async fn home(core: web::Data<Core>, c: Console) -> HttpResponse {
    let Console { site, actor, csrf } = c;
    match console::home(&core, &actor).await {
        Ok(h) => html_with(
            StatusCode::OK,
            &home_page(&core, &actor, &site, csrf, h),
            CSP,
        ),
        Err(e) => failure(&e.into(), Some(format!("{}/console/", site.prefix))),
    }
}
