//! Feedback to the branch: a member writes to their unit or one above it, under their name or
//! anonymously, and follows the thread; the unit's managers answer and close.
//!
//! The anonymous writer's routes take the thread's key in the body (never in the URL) and use
//! [`AnonymousAuth`], which checks the token without writing the member into the request log.

use actix_web::{HttpResponse, get, post, web};
use fingertip_core::feedback::{State, managers, writer};
use fingertip_core::{Core, CoreError};

use crate::dto::common::optional_query_id;
use crate::dto::feedback::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AnonymousAuth, Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(write_feedback)
        .service(my_feedback)
        .service(my_feedback_thread)
        .service(follow_up_feedback)
        .service(close_my_feedback)
        .service(write_anonymous_feedback)
        .service(anonymous_feedback_thread)
        .service(follow_up_anonymous_feedback)
        .service(close_anonymous_feedback)
        .service(list_feedback)
        .service(get_feedback)
        .service(reply_feedback)
        .service(close_feedback);
}

fn input(b: FeedbackRequest) -> Result<writer::Input, CoreError> {
    Ok(writer::Input {
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        topic: b.topic,
        body: b.body,
    })
}

/// Write to your unit or one above it, under your name (audited `feedback.create`).
#[utoipa::path(post, path = "/api/v1/feedback", tag = "feedback", security(("bearer" = [])),
    request_body = FeedbackRequest,
    responses((status = 201, body = FeedbackThread), (status = 400, body = ErrorBody)))]
#[post("/feedback")]
pub async fn write_feedback(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<FeedbackRequest>,
) -> ApiResult<HttpResponse> {
    let (t, _) = writer::write(&core, &a.0, input(body.into_inner())?, false).await?;
    Ok(HttpResponse::Created().json(FeedbackThread::from(t)))
}

/// The caller's named threads, newest first.
#[utoipa::path(get, path = "/api/v1/feedback", tag = "feedback", security(("bearer" = [])),
    responses((status = 200, body = FeedbackList)))]
#[get("/feedback")]
pub async fn my_feedback(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<FeedbackList>> {
    let items = writer::mine(&core, &a.0).await?;
    Ok(web::Json(FeedbackList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One of the caller's named threads, with its messages (404 for anyone else's).
#[utoipa::path(get, path = "/api/v1/feedback/{id}", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FeedbackThread), (status = 404, body = ErrorBody)))]
#[get("/feedback/{id}")]
pub async fn my_feedback_thread(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(writer::get(&core, &a.0, id).await?.into()))
}

/// Add to your thread (audited `feedback.message`): an answered thread is open again; a closed
/// one answers 409.
#[utoipa::path(post, path = "/api/v1/feedback/{id}/messages", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = FeedbackMessageRequest,
    responses((status = 200, body = FeedbackThread), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/feedback/{id}/messages")]
pub async fn follow_up_feedback(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<FeedbackMessageRequest>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(
        writer::follow_up(&core, &a.0, id, &body.body).await?.into(),
    ))
}

/// Close your thread (audited `feedback.close`).
#[utoipa::path(post, path = "/api/v1/feedback/{id}/close", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FeedbackThread), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/feedback/{id}/close")]
pub async fn close_my_feedback(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(writer::close(&core, &a.0, id).await?.into()))
}

/// Write anonymously to your unit or one above it with at least 5 members (audited
/// `feedback.create` with actor `anonymous`). The answer's `key` opens the thread from now on;
/// nothing else does, and it is not stored.
#[utoipa::path(post, path = "/api/v1/anonymous-feedback", tag = "feedback", security(("bearer" = [])),
    request_body = FeedbackRequest,
    responses((status = 201, body = AnonymousFeedbackCreated), (status = 400, body = ErrorBody)))]
#[post("/anonymous-feedback")]
pub async fn write_anonymous_feedback(
    core: web::Data<Core>,
    a: AnonymousAuth,
    body: web::Json<FeedbackRequest>,
) -> ApiResult<HttpResponse> {
    let (t, key) = writer::write(&core, &a.0, input(body.into_inner())?, true).await?;
    let key =
        key.ok_or_else(|| CoreError::Internal("an anonymous thread without its key".into()))?;
    Ok(HttpResponse::Created().json(AnonymousFeedbackCreated {
        key,
        thread: t.into(),
    }))
}

/// The anonymous thread of this key, with its messages (404 for any other key).
#[utoipa::path(post, path = "/api/v1/anonymous-feedback/thread", tag = "feedback", security(("bearer" = [])),
    request_body = FeedbackKeyRequest,
    responses((status = 200, body = FeedbackThread), (status = 404, body = ErrorBody)))]
#[post("/anonymous-feedback/thread")]
pub async fn anonymous_feedback_thread(
    core: web::Data<Core>,
    _a: AnonymousAuth,
    body: web::Json<FeedbackKeyRequest>,
) -> ApiResult<web::Json<FeedbackThread>> {
    Ok(web::Json(
        writer::get_by_key(&core, &body.key).await?.into(),
    ))
}

/// Add to the anonymous thread of this key (audited `feedback.message`, actor `anonymous`).
#[utoipa::path(post, path = "/api/v1/anonymous-feedback/messages", tag = "feedback", security(("bearer" = [])),
    request_body = AnonymousMessageRequest,
    responses((status = 200, body = FeedbackThread), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/anonymous-feedback/messages")]
pub async fn follow_up_anonymous_feedback(
    core: web::Data<Core>,
    _a: AnonymousAuth,
    body: web::Json<AnonymousMessageRequest>,
) -> ApiResult<web::Json<FeedbackThread>> {
    Ok(web::Json(
        writer::follow_up_by_key(&core, &body.key, &body.body)
            .await?
            .into(),
    ))
}

/// Close the anonymous thread of this key (audited `feedback.close`, actor `anonymous`).
#[utoipa::path(post, path = "/api/v1/anonymous-feedback/close", tag = "feedback", security(("bearer" = [])),
    request_body = FeedbackKeyRequest,
    responses((status = 200, body = FeedbackThread), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/anonymous-feedback/close")]
pub async fn close_anonymous_feedback(
    core: web::Data<Core>,
    _a: AnonymousAuth,
    body: web::Json<FeedbackKeyRequest>,
) -> ApiResult<web::Json<FeedbackThread>> {
    Ok(web::Json(
        writer::close_by_key(&core, &body.key).await?.into(),
    ))
}

/// The threads addressed to the units the caller manages, newest first.
#[utoipa::path(get, path = "/api/v1/admin/feedback", tag = "feedback", security(("bearer" = [])),
    params(FeedbackListQuery),
    responses((status = 200, body = FeedbackList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/feedback")]
pub async fn list_feedback(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<FeedbackListQuery>,
) -> ApiResult<web::Json<FeedbackList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let state = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(State::parse(s).ok_or_else(|| {
            CoreError::invalid("state", format!("must be one of {}", State::choices()))
        })?),
    };
    let items = managers::list(&core, &a.0, unit, state).await?;
    Ok(web::Json(FeedbackList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One thread addressed to a unit the caller manages, with its messages.
#[utoipa::path(get, path = "/api/v1/admin/feedback/{id}", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FeedbackThread), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/feedback/{id}")]
pub async fn get_feedback(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(managers::get(&core, &a.0, id).await?.into()))
}

/// Answer a thread (audited `feedback.reply`); a named writer is told in the inbox.
#[utoipa::path(post, path = "/api/v1/admin/feedback/{id}/messages", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = FeedbackMessageRequest,
    responses((status = 200, body = FeedbackThread), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/feedback/{id}/messages")]
pub async fn reply_feedback(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<FeedbackMessageRequest>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(
        managers::reply(&core, &a.0, id, &body.body).await?.into(),
    ))
}

/// Close a thread (audited `feedback.close`).
#[utoipa::path(post, path = "/api/v1/admin/feedback/{id}/close", tag = "feedback", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FeedbackThread), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/feedback/{id}/close")]
pub async fn close_feedback(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<FeedbackThread>> {
    let id = path_id(&id, "feedback")?;
    Ok(web::Json(managers::close(&core, &a.0, id).await?.into()))
}
