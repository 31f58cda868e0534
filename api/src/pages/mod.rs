//! Web pages for people in a browser rather than an app: today the reading page behind a WeCom
//! card (`/m/...`, see [`reading`]). They are HTML rendered on the server (askama templates
//! under `api/templates/pages/`, checked at compile time), with no script at all: every page
//! goes out with a Content-Security-Policy that allows none, and is never cached.
//!
//! Errors on a page are pages too: the same classification as the JSON API ([`ApiError`],
//! logged and counted in one place), shown in Chinese with the stable code underneath.

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use fingertip_core::Core;

use crate::error::{ApiError, DbUnavailable};

pub mod markdown;
pub mod reading;

/// Every page route, as (method, path pattern): registered from here, and listed in the access
/// matrix test, which fails when a page has no row.
pub const ROUTES: &[(&str, &str)] = reading::ROUTES;

/// Pages allow no script, no frame, no form target and no plugin; styles are inline, images
/// and media only over https.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; \
                       media-src https:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn configure(cfg: &mut web::ServiceConfig) {
    reading::configure(cfg);
}

/// Whether a path is a page's (an error there is answered with a page, not JSON).
pub fn is_page(path: &str) -> bool {
    path.starts_with("/m/") || path == "/console" || path.starts_with("/console/")
}

/// Where browsers reach this server: `FINGERTIP_PUBLIC_URL`, or the request's scheme and host.
pub(crate) struct Site {
    /// `https://host[/prefix]`.
    pub(crate) base: String,
    /// `/prefix`, or empty.
    pub(crate) prefix: String,
    pub(crate) secure: bool,
}

impl Site {
    pub(crate) fn of(core: &Core, req: &HttpRequest) -> Self {
        let base = core.settings.public_url.clone().unwrap_or_else(|| {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        });
        let after_scheme = base.find("://").map_or(0, |i| i + 3);
        let prefix = base[after_scheme..]
            .find('/')
            .map(|i| base[after_scheme + i..].trim_end_matches('/').to_string())
            .unwrap_or_default();
        Site {
            secure: base.starts_with("https://"),
            base,
            prefix,
        }
    }

    /// An HttpOnly cookie for `path` (under the prefix), `Secure` when the site is https.
    pub(crate) fn cookie<'c>(
        &self,
        path: &str,
        same_site: SameSite,
        name: &'c str,
        value: String,
        max_age_secs: i64,
    ) -> Cookie<'c> {
        Cookie::build(name, value)
            .path(format!("{}{path}", self.prefix))
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .max_age(time::Duration::seconds(max_age_secs))
            .finish()
    }

    /// The cookie `name` of `path`, gone.
    pub(crate) fn expired<'c>(&self, path: &str, same_site: SameSite, name: &'c str) -> Cookie<'c> {
        self.cookie(path, same_site, name, String::new(), 0)
    }
}

/// A page with the headers every page carries.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    html_with(status, page, CSP)
}

/// A page under its own Content-Security-Policy.
pub fn html_with(status: StatusCode, page: &impl Template, csp: &'static str) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, csp))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("服务器出了点问题，请稍后再试。")
        }
    }
}

/// A page that says one thing: a refusal, an error, or why there is nothing to show.
#[derive(Template)]
#[template(path = "pages/message.html")]
pub struct Message<'a> {
    pub title: &'a str,
    pub text: String,
    /// The stable code (as in the JSON API's errors), shown small for whoever helps the member.
    pub code: &'a str,
    /// A link that tries again.
    pub retry: Option<String>,
}

/// What a member is told for an error of the API's classification.
fn wording(code: &str, status: StatusCode) -> (&'static str, &'static str) {
    match code {
        "not_found" => (
            "找不到这条消息",
            "这条消息不在您的收件箱中：它可能没有发给您，或已被撤回。",
        ),
        "forbidden" => ("无法访问", "您的账号已停用。如有疑问，请联系支部书记。"),
        "conflict" => (
            "账号信息有误",
            "花名册中有多名成员登记了同一个企业微信账号，请联系管理员更正。",
        ),
        "validation_failed" => ("链接已失效", "登录已过期或已使用，请重新打开。"),
        "rate_limited" => ("请稍后再试", "访问太频繁了，请一分钟后再打开。"),
        "upstream_unavailable" if status == StatusCode::BAD_GATEWAY => (
            "企业微信登录失败",
            "服务器的企业微信设置有误，请联系管理员。",
        ),
        "upstream_unavailable" | "unavailable" => {
            ("服务暂时不可用", "请稍后再试，您的消息不会丢失。")
        }
        _ => ("出错了", "服务器出了点问题，已经记录，请稍后再试。"),
    }
}

/// The page for an error: its status, `Retry-After` and outage mark (for the database gate)
/// as the JSON API would answer it, and the words of [`wording`].
pub fn failure(e: &ApiError, retry: Option<String>) -> HttpResponse {
    failure_worded(e, retry, wording)
}

/// [`failure`] in other words: `words(code, status)` gives the title and the text.
pub fn failure_worded(
    e: &ApiError,
    retry: Option<String>,
    words: fn(&str, StatusCode) -> (&'static str, &'static str),
) -> HttpResponse {
    let json = e.error_response();
    let status = json.status();
    let code = e.code();
    let (title, text) = words(code, status);
    let mut page = html(
        status,
        &Message {
            title,
            text: text.into(),
            code,
            retry,
        },
    );
    if let Some(after) = json.headers().get(header::RETRY_AFTER) {
        page.headers_mut()
            .insert(header::RETRY_AFTER, after.clone());
    }
    if let Some(mark) = json.extensions().get::<DbUnavailable>().copied() {
        page.extensions_mut().insert(mark);
    }
    page
}

/// The database gate's refusal on a page path.
pub fn database_down(_req: &HttpRequest) -> HttpResponse {
    failure(&ApiError::DatabaseDown, None)
}

/// A QR code of `payload` as an inline `<svg>` element at least `side` pixels wide (the
/// renderer writes a standalone document; a page wants the element). Empty when the payload is
/// too long for a QR code, which none of ours is.
pub fn qr_svg(payload: &str, side: u32) -> String {
    qrcode::QrCode::new(payload.as_bytes())
        .map(|q| {
            q.render::<qrcode::render::svg::Color>()
                .min_dimensions(side, side)
                .build()
        })
        .ok()
        .and_then(|s| s.find("<svg").map(|i| s[i..].to_string()))
        .unwrap_or_default()
}
