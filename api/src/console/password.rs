//! Choosing a console username and password with the one-time link an admin made
//! (`POST /api/v1/admin/members/{id}/password-link`): `GET /console/password?token=` shows the
//! form, `POST /console/password` sets them and sends the member to the login form. The link's
//! token is the form's secret: a page of another site cannot know it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use fingertip_core::auth::service;
use fingertip_core::{Core, CoreError};

use super::{CSP, Frame, LOGIN_PATH, failure, form, see_other};
use crate::error::ApiError;
use crate::pages::{Site, html_with};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(password_form).service(set_password);
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    frame: Frame,
    name: String,
    token: String,
    username: String,
    error: Option<&'static str>,
}

fn token_of(req: &HttpRequest) -> String {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn page(
    site: &Site,
    status: StatusCode,
    name: String,
    token: String,
    username: String,
    error: Option<&'static str>,
) -> HttpResponse {
    html_with(
        status,
        &PasswordPage {
            frame: Frame::bare(site, "设置登录密码"),
            name,
            token,
            username,
            error,
        },
        CSP,
    )
}

#[get("/console/password")]
async fn password_form(req: HttpRequest, core: web::Data<Core>) -> HttpResponse {
    let site = Site::of(&core, &req);
    let token = token_of(&req);
    match service::password_link_member(&core, &token).await {
        Ok(name) => page(&site, StatusCode::OK, name, token, String::new(), None),
        Err(e) => failure(&e.into(), None),
    }
}

#[post("/console/password")]
async fn set_password(req: HttpRequest, core: web::Data<Core>, body: web::Bytes) -> HttpResponse {
    let site = Site::of(&core, &req);
    let f = form(&body);
    let field = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (token, username) = (field("token"), field("username"));
    let name = match service::password_link_member(&core, &token).await {
        Ok(name) => name,
        Err(e) => return failure(&e.into(), None),
    };
    if field("password") != field("password_again") {
        return page(
            &site,
            StatusCode::BAD_REQUEST,
            name,
            token,
            username,
            Some("两次输入的密码不一致。"),
        );
    }
    match service::set_password_by_link(&core, &token, &username, &field("password")).await {
        Ok(_) => see_other(&format!("{}{LOGIN_PATH}", site.prefix)).finish(),
        Err(e @ (CoreError::Validation { .. } | CoreError::Conflict(_))) => {
            let says = if matches!(e, CoreError::Conflict(_)) {
                "这个用户名已被使用，请换一个。"
            } else {
                "用户名需 3 到 64 个字符、不含空格；密码至少 10 个字符。"
            };
            let status = actix_web::ResponseError::status_code(&ApiError::from(e));
            page(&site, status, name, token, username, Some(says))
        }
        Err(e) => failure(&e.into(), None),
    }
}
