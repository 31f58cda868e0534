//! The reading page behind a WeCom card: `GET /m/broadcasts/{id}` shows the member their item
//! of that broadcast and marks it read. The member is known from WeCom's silent web sign-in
//! (WECHAT.md §11), never from anything the link itself carries:
//!
//! 1. Without a reading session, the page sets a cookie with a random `state` and sends the
//!    browser to WeCom's authorize URL, which comes back to `GET /m/auth?code&state&next`.
//! 2. `/m/auth` checks `state` against the cookie (so nobody can sign a browser in as someone
//!    else), asks WeCom whose `code` it is, finds the member by their WeCom user id, sets the
//!    reading session's cookie (an access token of a session of its own, 15 minutes) and sends
//!    the browser back to the page (`next`, only ever a reading page's path).
//! 3. When that session ends, the next page signs in again the same way, without a prompt.
//!
//! Cookies: HttpOnly, `SameSite=Lax` (WeCom's redirect back is a top-level navigation from
//! another site: a `Strict` cookie would not come with it), `Secure` when the public URL is
//! https, scoped to the pages' path.

use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fingertip_core::auth::service::{self, ReaderSignIn};
use fingertip_core::inbox::{self, InboxItemDetail};
use fingertip_core::{Core, CoreError};
use serde::Deserialize;

use super::{Message, Site, failure, html, html_with, markdown};
use crate::error::ApiError;

pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/m/broadcasts/{id}"),
    ("GET", "/m/auth"),
    ("POST", "/m/items/{id}/study"),
    ("GET", "/m/static/study.js"),
];

/// The page of an item that counts as study: its one script of ours reports reading time.
const STUDY_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
                         media-src https:; script-src 'self'; connect-src 'self'; \
                         base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const STUDY_SCRIPT: &str = include_str!("../../static/reading-study.js");

/// The reading session's cookie: an access token.
const SESSION_COOKIE: &str = "ft_read";
/// The sign-in's `state`, checked when WeCom sends the browser back.
const STATE_COOKIE: &str = "ft_state";
/// How long a sign-in may take (WeCom's codes live five minutes).
const STATE_TTL_SECS: i64 = 600;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(broadcast)
        .service(auth)
        .service(report_study)
        .service(study_script);
}

/// The path of the reading page of a broadcast.
fn page_path(broadcast_id: i64) -> String {
    format!("/m/broadcasts/{broadcast_id}")
}

/// `next` of a sign-in: only ever a reading page, so that `/m/auth` redirects nowhere else.
fn page_of(next: &str) -> Option<i64> {
    next.strip_prefix("/m/broadcasts/")
        .filter(|id| !id.is_empty() && id.len() <= 18 && id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse().ok())
}

fn found(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Found();
    b.insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    b
}

fn not_configured() -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        &Message {
            title: "未接入企业微信",
            text: "这个服务器没有接入企业微信，请在小程序“指尖课堂”中阅读。".into(),
            code: "wecom_not_configured",
            retry: None,
        },
    )
}

/// The page of one inbox item.
#[derive(Template)]
#[template(path = "pages/item.html")]
struct ItemPage {
    title: String,
    kind: Option<&'static str>,
    sent: String,
    read_by: Option<String>,
    study_minutes: i32,
    body_html: String,
    media: Vec<MediaLink>,
    /// The script that reports reading time, on an item that counts as study.
    study: Option<StudyScript>,
}

struct StudyScript {
    src: String,
    /// Where it reports.
    report: String,
}

struct MediaLink {
    url: String,
    label: String,
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn item_page(core: &Core, site: &Site, d: InboxItemDetail) -> ItemPage {
    let tz = core.settings.timezone;
    let study = (d.study_minutes > 0).then(|| StudyScript {
        src: format!("{}/m/static/study.js", site.prefix),
        report: format!("{}/m/items/{}/study", site.prefix, d.item.id),
    });
    let media = d
        .media
        .into_iter()
        .filter(|m| m.url.starts_with("https://") || m.url.starts_with("http://"))
        .map(|m| {
            let label = m
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| {
                    match m.kind.as_str() {
                        "video" => "视频",
                        "audio" => "音频",
                        "image" => "图片",
                        _ => "附件",
                    }
                    .to_string()
                });
            MediaLink { url: m.url, label }
        })
        .collect();
    ItemPage {
        title: d.item.title,
        kind: d
            .item
            .kind
            .as_ref()
            .map(fingertip_core::push::templates::kind_label),
        sent: local(d.item.created_at, tz),
        read_by: d.item.read_by.map(|t| local(t, tz)),
        study_minutes: d.study_minutes,
        body_html: markdown::to_html(&d.body_md),
        media,
        study,
    }
}

/// The reading page behind a WeCom card: the member's item of this broadcast, marked read.
#[get("/m/broadcasts/{id}")]
async fn broadcast(req: HttpRequest, id: web::Path<String>, core: web::Data<Core>) -> HttpResponse {
    let Some(id) = page_of(&format!("/m/broadcasts/{id}")) else {
        return failure(&ApiError::Core(CoreError::NotFound("page")), None);
    };
    if core.wecom_sign_in.is_none() {
        return not_configured();
    }
    let site = Site::of(&core, &req);
    if let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) {
        match service::authenticate(&core, &token).await {
            Ok(actor) => {
                return match inbox::open_broadcast(&core, actor.member_id, id).await {
                    Ok(d) => {
                        let page = item_page(&core, &site, d);
                        let csp = if page.study.is_some() {
                            STUDY_CSP
                        } else {
                            super::CSP
                        };
                        html_with(StatusCode::OK, &page, csp)
                    }
                    Err(e) => failure(&e.into(), None),
                };
            }
            // The session ended or expired: sign in again, below.
            Err(CoreError::Unauthorized(_)) => {}
            Err(e) => return failure(&e.into(), Some(site.prefix.clone() + &page_path(id))),
        }
    }
    let state = service::sign_in_state();
    let back = format!("{}/m/auth?next={}", site.base, url_escape(&page_path(id)));
    match service::wecom_authorize_url(&core, &back, &state) {
        Ok(to) => found(&to)
            .cookie(site.cookie("/m", SameSite::Lax, STATE_COOKIE, state, STATE_TTL_SECS))
            .cookie(site.expired("/m", SameSite::Lax, SESSION_COOKIE))
            .finish(),
        Err(e) => failure(&e.into(), None),
    }
}

/// `/` and `?` and the like in a query value.
fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Default, Deserialize)]
struct AuthQuery {
    code: Option<String>,
    state: Option<String>,
    next: Option<String>,
}

/// Where WeCom's sign-in comes back: the member is signed in and sent on to `next`.
#[get("/m/auth")]
async fn auth(req: HttpRequest, core: web::Data<Core>) -> HttpResponse {
    let q = web::Query::<AuthQuery>::from_query(req.query_string())
        .map_or_else(|_| AuthQuery::default(), web::Query::into_inner);
    let Some(page) = q.next.as_deref().and_then(page_of) else {
        return failure(
            &ApiError::Core(CoreError::invalid("next", "is not a reading page")),
            None,
        );
    };
    if core.wecom_sign_in.is_none() {
        return not_configured();
    }
    let site = Site::of(&core, &req);
    let again = site.prefix.clone() + &page_path(page);
    let expected = req.cookie(STATE_COOKIE).map(|c| c.value().to_string());
    let state_ok = match (&expected, &q.state) {
        (Some(e), Some(s)) => !e.is_empty() && e == s,
        _ => false,
    };
    let (Some(code), true) = (q.code.as_deref().filter(|c| !c.is_empty()), state_ok) else {
        // A sign-in this browser did not start (or one already finished: the back button).
        let e = ApiError::Core(CoreError::invalid(
            "state",
            "this sign-in was not started by this browser, or is finished",
        ));
        let mut resp = failure(&e, Some(again));
        let _ = resp.add_removal_cookie(&site.expired("/m", SameSite::Lax, STATE_COOKIE));
        return resp;
    };
    let outcome = service::wecom_reader_sign_in(&core, code).await;
    let mut resp = match outcome {
        Ok(ReaderSignIn::Member {
            access_token,
            expires_in,
            ..
        }) => found(&again)
            .cookie(site.cookie(
                "/m",
                SameSite::Lax,
                SESSION_COOKIE,
                access_token,
                expires_in,
            ))
            .finish(),
        Ok(ReaderSignIn::NotInCompany) => html(
            StatusCode::FORBIDDEN,
            &Message {
                title: "仅限本单位成员",
                text: "这个页面只对本单位企业微信中的成员开放。".into(),
                code: "not_in_company",
                retry: None,
            },
        ),
        Ok(ReaderSignIn::NotOnRoster { userid }) => html(
            StatusCode::FORBIDDEN,
            &Message {
                title: "尚未登记",
                text: format!(
                    "您的企业微信账号（{userid}）还没有登记在指尖课堂的花名册中。请联系支部书记，在花名册中填写您的企业微信账号后再打开。"
                ),
                code: "not_on_roster",
                retry: None,
            },
        ),
        Err(e) => failure(&e.into(), Some(again)),
    };
    let _ = resp.add_removal_cookie(&site.expired("/m", SameSite::Lax, STATE_COOKIE));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_reading_page() {
        assert_eq!(page_of("/m/broadcasts/42"), Some(42));
        assert_eq!(page_of("/m/broadcasts/"), None);
        assert_eq!(page_of("/m/broadcasts/4x"), None);
        assert_eq!(page_of("https://evil.example/m/broadcasts/4"), None);
        assert_eq!(page_of("//evil.example/m/broadcasts/4"), None);
        assert_eq!(page_of("/m/broadcasts/99999999999999999999"), None);
    }
}

/// What a heartbeat from the reading page says (the same as the API's).
#[derive(Deserialize)]
struct StudyBeat {
    session: String,
    visible_seconds: i64,
    #[serde(default)]
    closed: bool,
}

/// Reading time from the reading page's script, for the member of the reading session: the
/// same crediting as `POST /api/v1/inbox/{id}/study`. JSON in and out; a 401 once the session
/// has ended, which the script stops on.
#[actix_web::post("/m/items/{id}/study")]
async fn report_study(
    req: HttpRequest,
    id: web::Path<String>,
    core: web::Data<Core>,
    body: web::Bytes,
) -> HttpResponse {
    let json_error = |e: CoreError| actix_web::ResponseError::error_response(&ApiError::from(e));
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return json_error(CoreError::Unauthorized("no reading session".into()));
    };
    let actor = match service::authenticate(&core, &token).await {
        Ok(a) => a,
        Err(e) => return json_error(e),
    };
    let Some(id) = crate::dto::common::Id::parse(&id).map(|i| i.0) else {
        return json_error(CoreError::NotFound("inbox item"));
    };
    let beat: StudyBeat = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(_) => {
            return json_error(CoreError::invalid(
                "body",
                "must be {\"session\", \"visible_seconds\", \"closed\"}",
            ));
        }
    };
    let beat = fingertip_core::study::reading::Heartbeat {
        session: beat.session,
        visible_seconds: beat.visible_seconds,
        closed: beat.closed,
    };
    match fingertip_core::study::reading::heartbeat(&core, actor.member_id, id, beat).await {
        Ok(c) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({
                "credited_seconds": c.credited,
                "total_seconds": c.total,
                "limit_seconds": c.limit,
            })),
        Err(e) => json_error(e),
    }
}

#[get("/m/static/study.js")]
async fn study_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(STUDY_SCRIPT)
}
