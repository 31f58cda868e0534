//! Push set-up: the member's subscribe consents and the admins' subscribe templates.

use actix_web::{HttpResponse, delete, get, post, put, web};
use fingertip_core::Core;
use fingertip_core::push::{consent, quiet, templates};

use crate::dto::push::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(record_subscriptions)
        .service(get_subscriptions)
        .service(get_push_preferences)
        .service(put_push_preferences)
        .service(list_templates)
        .service(put_template)
        .service(delete_template);
}

/// Record what `wx.requestSubscribeMessage` returned: each `accept*` is one more send credit.
#[utoipa::path(post, path = "/api/v1/me/wechat/subscriptions", tag = "push", security(("bearer" = [])),
    request_body = SubscriptionsRequest,
    responses((status = 200, body = CreditsResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[post("/me/wechat/subscriptions")]
pub async fn record_subscriptions(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<SubscriptionsRequest>,
) -> ApiResult<web::Json<CreditsResponse>> {
    let credits = consent::record(&core, a.0.member_id, &body.results).await?;
    Ok(web::Json(CreditsResponse { credits }))
}

/// The caller's send credits per template, so the mini-program knows when to ask again.
#[utoipa::path(get, path = "/api/v1/me/wechat/subscriptions", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = CreditsResponse), (status = 401, body = ErrorBody)))]
#[get("/me/wechat/subscriptions")]
pub async fn get_subscriptions(
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<web::Json<CreditsResponse>> {
    Ok(web::Json(CreditsResponse {
        credits: consent::credits_of(&core, a.0.member_id).await?,
    }))
}

/// The caller's push preferences: quiet hours (the organisation's unless they set their own),
/// off-site with the daily digest's time. The inbox is never held; only pushes are.
#[utoipa::path(get, path = "/api/v1/me/push-preferences", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushPreferences), (status = 401, body = ErrorBody)))]
#[get("/me/push-preferences")]
pub async fn get_push_preferences(
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<web::Json<PushPreferences>> {
    Ok(web::Json(quiet::prefs::get(&core, &a.0).await?.into()))
}

/// Change the caller's push preferences; absent fields stay as they are.
#[utoipa::path(put, path = "/api/v1/me/push-preferences", tag = "push", security(("bearer" = [])),
    request_body = PushPreferencesRequest,
    responses((status = 200, body = PushPreferences), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[put("/me/push-preferences")]
pub async fn put_push_preferences(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<PushPreferencesRequest>,
) -> ApiResult<web::Json<PushPreferences>> {
    let b = body.into_inner();
    let input = quiet::PrefsInput {
        quiet: b.quiet,
        quiet_from: b.quiet_from,
        quiet_until: b.quiet_until,
        off_site: b.off_site,
        digest_at: b.digest_at,
    };
    Ok(web::Json(
        quiet::prefs::set(&core, &a.0, input).await?.into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/admin/push/templates", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = TemplateList), (status = 403, body = ErrorBody)))]
#[get("/admin/push/templates")]
pub async fn list_templates(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<TemplateList>> {
    Ok(web::Json(TemplateList {
        items: templates::list(&core, &a.0)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

/// Set the subscribe template of a kind (admin).
#[utoipa::path(put, path = "/api/v1/admin/push/templates/{kind}", tag = "push", security(("bearer" = [])),
    params(("kind" = String, Path)), request_body = TemplateRequest,
    responses((status = 200, body = TemplateResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/admin/push/templates/{kind}")]
pub async fn put_template(
    core: web::Data<Core>,
    a: Auth,
    kind: web::Path<String>,
    body: web::Json<TemplateRequest>,
) -> ApiResult<web::Json<TemplateResponse>> {
    let b = body.into_inner();
    let t = templates::put(
        &core,
        &a.0,
        &kind,
        &b.template_id,
        b.page.as_deref(),
        b.fields,
    )
    .await?;
    Ok(web::Json(t.into()))
}

#[utoipa::path(delete, path = "/api/v1/admin/push/templates/{kind}", tag = "push", security(("bearer" = [])),
    params(("kind" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/admin/push/templates/{kind}")]
pub async fn delete_template(
    core: web::Data<Core>,
    a: Auth,
    kind: web::Path<String>,
) -> ApiResult<HttpResponse> {
    templates::delete(&core, &a.0, &kind).await?;
    Ok(HttpResponse::NoContent().finish())
}
