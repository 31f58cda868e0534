//! Logins, tokens and the caller's own record.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use fingertip_core::Core;
use fingertip_core::auth::{LoginOutcome, service};
use fingertip_core::org::members;

use crate::dto::auth::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, bearer, client, optional_json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(admin_login)
        .service(wechat_login)
        .service(wechat_bind)
        .service(refresh)
        .service(logout)
        .service(approve_console_login)
        .service(me);
}

/// Log the web console in as the caller, by the ticket of its QR code (the mini-program scans
/// it and calls this with its own token). Admins and secretaries only. A ticket works once and
/// for two minutes; an unknown, expired or used one is a 404, without saying which.
#[utoipa::path(post, path = "/api/v1/auth/console/approve", tag = "auth", security(("bearer" = [])),
    request_body = ConsoleApproveRequest, responses(
    (status = 200, body = OkResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "the caller is not an admin or a secretary"),
    (status = 404, body = ErrorBody, description = "no such ticket: unknown, expired or already used")))]
#[post("/auth/console/approve")]
pub async fn approve_console_login(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<ConsoleApproveRequest>,
) -> ApiResult<web::Json<OkResponse>> {
    service::approve_ticket(&core, &a.0, &body.ticket).await?;
    Ok(web::Json(OkResponse { ok: true }))
}

/// Password login for admins and secretaries.
#[utoipa::path(post, path = "/api/v1/auth/admin/login", tag = "auth", request_body = AdminLoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = ErrorBody, description = "wrong username or password"),
    (status = 403, body = ErrorBody, description = "the account is a member's: password login is for admins and secretaries"),
    (status = 429, body = ErrorBody, description = "too many attempts for this username or from this address; see Retry-After")))]
#[post("/auth/admin/login")]
pub async fn admin_login(
    core: web::Data<Core>,
    req: HttpRequest,
    body: web::Json<AdminLoginRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    Ok(web::Json(
        service::admin_login(&core, &body.username, &body.password, &client(&req))
            .await?
            .into(),
    ))
}

/// Log in with the code from `wx.login`: tokens when the account is bound, else a bind token.
#[utoipa::path(post, path = "/api/v1/auth/wechat/login", tag = "auth", request_body = WechatLoginRequest, responses(
    (status = 200, description = "TokenResponse, or BindRequiredResponse when the account is not bound yet", body = WechatLoginResponse),
    (status = 400, body = ErrorBody, description = "invalid, expired or used code"),
    (status = 403, body = ErrorBody, description = "the member has been deactivated"),
    (status = 429, body = ErrorBody, description = "WeChat is limiting logins; see Retry-After"),
    (status = 502, body = ErrorBody, description = "WeChat refused this server's credentials"),
    (status = 503, body = ErrorBody, description = "WeChat login is not configured, or WeChat did not answer")))]
#[post("/auth/wechat/login")]
pub async fn wechat_login(
    core: web::Data<Core>,
    body: web::Json<WechatLoginRequest>,
) -> ApiResult<HttpResponse> {
    Ok(
        HttpResponse::Ok().json(match service::wechat_login(&core, &body.code).await? {
            LoginOutcome::Tokens(t) => WechatLoginResponse::Tokens(t.into()),
            LoginOutcome::BindRequired { bind_token } => {
                WechatLoginResponse::BindRequired(BindRequiredResponse {
                    bind_required: true,
                    bind_token,
                })
            }
        }),
    )
}

/// Bind the WeChat account to the roster entry that holds the invite code (works once).
#[utoipa::path(post, path = "/api/v1/auth/wechat/bind", tag = "auth", request_body = BindRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 409, body = ErrorBody, description = "this WeChat account is bound to another member"),
    (status = 429, body = ErrorBody, description = "too many invite-code attempts for this account or address; see Retry-After")))]
#[post("/auth/wechat/bind")]
pub async fn wechat_bind(
    core: web::Data<Core>,
    req: HttpRequest,
    body: web::Json<BindRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    Ok(web::Json(
        service::bind(&core, &body.bind_token, &body.invite_code, &client(&req))
            .await?
            .into(),
    ))
}

/// Trade a refresh token for a new pair. Reusing a refresh token revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
#[post("/auth/refresh")]
pub async fn refresh(
    core: web::Data<Core>,
    body: web::Json<RefreshRequest>,
) -> ApiResult<web::Json<TokenResponse>> {
    Ok(web::Json(
        service::refresh(&core, &body.refresh_token).await?.into(),
    ))
}

/// End a session: the one of the given refresh token, or else of the bearer token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security((), ("bearer" = [])),
    request_body(content = LogoutRequest, description = "optional: without it (or without `refresh_token`), the bearer token's session ends"),
    responses(
    (status = 200, body = OkResponse), (status = 401, body = ErrorBody)))]
#[post("/auth/logout")]
pub async fn logout(
    core: web::Data<Core>,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult<web::Json<OkResponse>> {
    if let Some(rt) = optional_json::<LogoutRequest>(&body)?.and_then(|b| b.refresh_token) {
        service::logout_refresh(&core, &rt).await?;
    } else {
        let token = bearer(&req).ok_or_else(|| {
            fingertip_core::CoreError::Unauthorized("send a refresh_token or a bearer token".into())
        })?;
        let actor = service::authenticate(&core, &token).await?;
        service::logout_session(&core, &actor.session_id).await?;
    }
    Ok(web::Json(OkResponse { ok: true }))
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Me), (status = 401, body = ErrorBody)))]
#[get("/me")]
pub async fn me(core: web::Data<Core>, auth: Auth) -> ApiResult<web::Json<Me>> {
    Ok(web::Json(
        members::view(&core.db, auth.0.member_id).await?.into(),
    ))
}
