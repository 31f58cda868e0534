//! Broadcasts (admin).

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::Utc;
use fingertip_core::Core;
use fingertip_core::broadcasts::service::BroadcastPatch;
use fingertip_core::broadcasts::stats::{self, RecipientState};
use fingertip_core::broadcasts::{BroadcastInput, service};
use fingertip_core::paging::PageRequest;

use crate::dto::Paged;
use crate::dto::broadcasts::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_broadcast)
        .service(list_broadcasts)
        .service(get_broadcast)
        .service(update_broadcast)
        .service(list_recipients)
        .service(cancel_broadcast)
        .service(remind_broadcast);
}

/// Send a post to an audience, now or at `send_at`.
#[utoipa::path(post, path = "/api/v1/admin/broadcasts", tag = "broadcasts", security(("bearer" = [])),
    request_body = CreateBroadcastRequest,
    responses((status = 201, body = BroadcastResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/broadcasts")]
pub async fn create_broadcast(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreateBroadcastRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = BroadcastInput {
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        post_id: b.post_id.parse("post_id")?,
        audience: b.audience.to_core()?,
        channels: b.channels,
        send_at: b.send_at.map(|t| t.with_timezone(&Utc)),
        recurrence: b.recurrence,
        timezone: b.timezone,
        read_by: b.read_by.map(|t| t.with_timezone(&Utc)),
        ladder: b.ladder.map(Into::into),
        urgent: b.urgent,
    };
    let v = service::create(&core, &a.0, input).await?;
    Ok(HttpResponse::Created().json(BroadcastResponse::new(v, None)))
}

/// Broadcasts, newest first.
#[utoipa::path(get, path = "/api/v1/admin/broadcasts", tag = "broadcasts", security(("bearer" = [])),
    params(BroadcastQuery), responses((status = 200, body = Paged<BroadcastResponse>), (status = 400, body = ErrorBody)))]
#[get("/admin/broadcasts")]
pub async fn list_broadcasts(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<BroadcastQuery>,
) -> ApiResult<web::Json<Paged<BroadcastResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = service::list(
        &core,
        &a.0,
        q.status.as_deref().filter(|s| !s.is_empty()),
        page,
    )
    .await?;
    Ok(web::Json(Paged::from_page(p, |b| {
        BroadcastResponse::new(b, None)
    })))
}

/// One broadcast with its delivery and read statistics.
#[utoipa::path(get, path = "/api/v1/admin/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = BroadcastResponse), (status = 404, body = ErrorBody)))]
#[get("/admin/broadcasts/{id}")]
pub async fn get_broadcast(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<BroadcastResponse>> {
    let id = path_id(&id, "broadcast")?;
    let b = service::get(&core, &a.0, id).await?;
    let s = stats::stats(&core, &a.0, id).await?;
    Ok(web::Json(BroadcastResponse::new(b, Some(s))))
}

/// Edit a scheduled broadcast before its next occurrence runs: time, rule, audience, post,
/// channels. 409 while an occurrence is being sent and once nothing is left to send.
#[utoipa::path(patch, path = "/api/v1/admin/broadcasts/{id}", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateBroadcastRequest,
    responses((status = 200, body = BroadcastResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/admin/broadcasts/{id}")]
pub async fn update_broadcast(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<UpdateBroadcastRequest>,
) -> ApiResult<web::Json<BroadcastResponse>> {
    let id = path_id(&id, "broadcast")?;
    let b = body.into_inner();
    let patch = BroadcastPatch {
        post_id: b.post_id.map(|p| p.parse("post_id")).transpose()?,
        audience: b.audience.map(|a| a.to_core()).transpose()?,
        channels: b.channels,
        send_at: b.send_at.map(|t| t.with_timezone(&Utc)),
        recurrence: b.recurrence,
        timezone: b.timezone,
        read_by: b.read_by.map(|o| o.map(|t| t.with_timezone(&Utc))),
        ladder: b.ladder.map(Into::into),
        urgent: b.urgent,
    };
    let v = service::update(&core, &a.0, id, patch).await?;
    Ok(web::Json(BroadcastResponse::new(v, None)))
}

/// Recipients, optionally only those who have read, not read, or whose push failed.
#[utoipa::path(get, path = "/api/v1/admin/broadcasts/{id}/recipients", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path), RecipientQuery),
    responses((status = 200, body = Paged<RecipientResponse>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/broadcasts/{id}/recipients")]
pub async fn list_recipients(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    q: web::Query<RecipientQuery>,
) -> ApiResult<web::Json<Paged<RecipientResponse>>> {
    let id = path_id(&id, "broadcast")?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(RecipientState::parse)
        .transpose()?;
    let p = stats::recipients(&core, &a.0, id, state, page).await?;
    let ids: Vec<i64> = p.items.iter().map(|r| r.member_id).collect();
    let mut pushes = fingertip_core::push::deliveries::of_members(&core, id, &ids).await?;
    Ok(web::Json(Paged::from_page(p, |r| {
        let push = pushes.remove(&r.member_id).unwrap_or_default();
        RecipientResponse::new(r, push)
    })))
}

/// Cancel a broadcast that has not finished sending; 409 when there is nothing left to cancel.
#[utoipa::path(post, path = "/api/v1/admin/broadcasts/{id}/cancel", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = BroadcastResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/broadcasts/{id}/cancel")]
pub async fn cancel_broadcast(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<BroadcastResponse>> {
    let id = path_id(&id, "broadcast")?;
    Ok(web::Json(BroadcastResponse::new(
        service::cancel(&core, &a.0, id).await?,
        None,
    )))
}

/// Re-notify, on the broadcast's push channels, the members who have not read its latest
/// occurrence. 202: the reminder is queued for the push workers.
#[utoipa::path(post, path = "/api/v1/admin/broadcasts/{id}/remind", tag = "broadcasts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 202, body = crate::dto::push::RemindResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/broadcasts/{id}/remind")]
pub async fn remind_broadcast(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "broadcast")?;
    let (round, reminded) = fingertip_core::push::deliveries::remind(&core, &a.0, id).await?;
    Ok(HttpResponse::Accepted().json(crate::dto::push::RemindResponse { round, reminded }))
}
