//! The member's inbox. Every route works on the caller's own items only.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use fingertip_core::Core;
use fingertip_core::inbox;
use fingertip_core::paging::PageRequest;

use crate::conditional;
use crate::dto::common::Id;
use crate::dto::inbox::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Fixed paths before `{id}` so that they are not taken for ids.
    cfg.service(get_unread_count)
        .service(read_all)
        .service(list_inbox)
        .service(get_item)
        .service(mark_read);
}

/// The caller's inbox, newest first. Carries an `ETag`; `If-None-Match` with it answers 304.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", security(("bearer" = [])),
    params(InboxQuery, ("If-None-Match" = Option<String>, Header, description = "the `ETag` of the copy the client has")),
    responses((status = 200, body = InboxListResponse), (status = 304, description = "not modified: `If-None-Match` names the current `ETag`"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
#[get("/inbox")]
pub async fn list_inbox(
    req: HttpRequest,
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<InboxQuery>,
) -> ApiResult<HttpResponse> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let r = inbox::list(&core, a.0.member_id, q.unread_only.unwrap_or(false), page).await?;
    conditional::json(
        &req,
        &InboxListResponse {
            items: r.page.items.into_iter().map(Into::into).collect(),
            next_cursor: r.page.next_cursor,
            unread_count: r.unread_count,
        },
    )
}

/// The caller's unread count. Carries an `ETag`; `If-None-Match` with it answers 304.
#[utoipa::path(get, path = "/api/v1/inbox/unread-count", tag = "inbox", security(("bearer" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "the `ETag` of the copy the client has")),
    responses((status = 200, body = UnreadCountResponse), (status = 304, description = "not modified: `If-None-Match` names the current `ETag`")))]
#[get("/inbox/unread-count")]
pub async fn get_unread_count(
    req: HttpRequest,
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<HttpResponse> {
    let unread_count = inbox::unread_count(&core, a.0.member_id).await?;
    conditional::json(&req, &UnreadCountResponse { unread_count })
}

/// One item with the post's body and media. Carries an `ETag`; `If-None-Match` with it
/// answers 304.
#[utoipa::path(get, path = "/api/v1/inbox/{id}", tag = "inbox", security(("bearer" = [])),
    params(("id" = String, Path), ("If-None-Match" = Option<String>, Header, description = "the `ETag` of the copy the client has")),
    responses((status = 200, body = InboxItemDetailResponse), (status = 304, description = "not modified: `If-None-Match` names the current `ETag`"), (status = 404, body = ErrorBody)))]
#[get("/inbox/{id}")]
pub async fn get_item(
    req: HttpRequest,
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "inbox item")?;
    let item: InboxItemDetailResponse = inbox::get(&core, a.0.member_id, id).await?.into();
    conditional::json(&req, &item)
}

/// Mark one item read (idempotent).
#[utoipa::path(post, path = "/api/v1/inbox/{id}/read", tag = "inbox", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ReadResponse), (status = 404, body = ErrorBody)))]
#[post("/inbox/{id}/read")]
pub async fn mark_read(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<ReadResponse>> {
    let id = path_id(&id, "inbox item")?;
    let read_at = inbox::mark_read(&core, a.0.member_id, id).await?;
    let unread_count = inbox::unread_count(&core, a.0.member_id).await?;
    Ok(web::Json(ReadResponse {
        id: Id(id),
        read_at,
        unread_count,
    }))
}

/// Mark every item read.
#[utoipa::path(post, path = "/api/v1/inbox/read-all", tag = "inbox", security(("bearer" = [])),
    responses((status = 200, body = ReadAllResponse)))]
#[post("/inbox/read-all")]
pub async fn read_all(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<ReadAllResponse>> {
    let updated = inbox::read_all(&core, a.0.member_id).await?;
    let unread_count = inbox::unread_count(&core, a.0.member_id).await?;
    Ok(web::Json(ReadAllResponse {
        updated,
        unread_count,
    }))
}
