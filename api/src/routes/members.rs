//! Members and the roster import (admin).

use actix_web::{HttpResponse, get, patch, post, web};
use fingertip_core::Core;
use fingertip_core::org::{MemberFilter, MemberInput, MemberPatch, import, members};
use fingertip_core::paging::PageRequest;
use fingertip_core::push::consent;
use futures_util::StreamExt;

use crate::dto::org::*;
use crate::dto::{Paged, query_id};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

/// Largest roster file accepted.
/// A district roster of 100,000 lines (names, units, tags, phones) is about 6 MB.
pub const MAX_CSV_BYTES: usize = 16 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(import_members)
        .service(create_member)
        .service(list_members)
        .service(get_member)
        .service(patch_member)
        .service(password_link);
}

/// A one-time link with which an admin or a secretary sets their own web console username and
/// password (the console's `/console/password?token=…`). Admins only; the member must be an
/// active admin or secretary (409 otherwise). The link works once and for three days, and
/// replaces the member's earlier links.
#[utoipa::path(post, path = "/api/v1/admin/members/{id}/password-link", tag = "organisation", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
        (status = 201, body = PasswordLinkResponse),
        (status = 403, body = ErrorBody, description = "not an admin"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the member is not an active admin or secretary")))]
#[post("/admin/members/{id}/password-link")]
pub async fn password_link(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "member")?;
    let link = fingertip_core::auth::service::create_password_link(&core, &a.0, id).await?;
    let prefix = core.settings.public_url.clone().unwrap_or_default();
    Ok(HttpResponse::Created().json(PasswordLinkResponse {
        url: format!("{prefix}/console/password?token={}", link.token),
        token: link.token,
        expires_at: link.expires_at,
    }))
}

#[utoipa::path(post, path = "/api/v1/admin/members", tag = "organisation", security(("bearer" = [])),
    request_body = CreateMemberRequest, responses((status = 201, body = MemberResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/admin/members")]
pub async fn create_member(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreateMemberRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = MemberInput {
        name: b.name,
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        role: parse_role(b.role.as_deref())?,
        tags: b.tags,
        phone: b.phone,
        wecom_userid: b.wecom_userid,
    };
    let v = members::create(&core, &a.0, &input).await?;
    Ok(HttpResponse::Created().json(MemberResponse::from(v)))
}

/// Members, by id, filtered by unit (with its subtree), tag, or a part of the name or phone.
#[utoipa::path(get, path = "/api/v1/admin/members", tag = "organisation", security(("bearer" = [])),
    params(MemberQuery), responses((status = 200, body = Paged<MemberResponse>), (status = 400, body = ErrorBody)))]
#[get("/admin/members")]
pub async fn list_members(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<MemberQuery>,
) -> ApiResult<web::Json<Paged<MemberResponse>>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let unit_id = match q.unit_id.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => Some(query_id("unit_id", u)?),
        None => None,
    };
    let f = MemberFilter {
        unit_id,
        tag: q.tag.clone(),
        q: q.q.clone(),
        unbound: false,
    };
    let p = members::list(&core, &a.0, &f, page).await?;
    let ids: Vec<i64> = p.items.iter().map(|v| v.id).collect();
    let mut credits = consent::credits_of_many(&core, &ids).await?;
    Ok(web::Json(Paged::from_page(p, |v| {
        let c = credits.remove(&v.id).unwrap_or_default();
        let mut r = MemberResponse::from(v);
        r.wechat_credits = c;
        r
    })))
}

#[utoipa::path(get, path = "/api/v1/admin/members/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = MemberResponse), (status = 404, body = ErrorBody)))]
#[get("/admin/members/{id}")]
pub async fn get_member(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<MemberResponse>> {
    let id = path_id(&id, "member")?;
    let mut r = MemberResponse::from(members::get(&core, &a.0, id).await?);
    r.wechat_credits = consent::credits_of(&core, id).await?;
    Ok(web::Json(r))
}

#[utoipa::path(patch, path = "/api/v1/admin/members/{id}", tag = "organisation", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = PatchMemberRequest,
    responses((status = 200, body = MemberResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "you cannot change your own role or deactivate yourself")))]
#[patch("/admin/members/{id}")]
pub async fn patch_member(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<PatchMemberRequest>,
) -> ApiResult<web::Json<MemberResponse>> {
    let id = path_id(&id, "member")?;
    let b = body.into_inner();
    let p = MemberPatch {
        name: b.name,
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        role: parse_role(b.role.as_deref())?,
        tags: b.tags,
        phone: b.phone,
        wecom_userid: b.wecom_userid,
        active: b.active,
    };
    Ok(web::Json(
        members::patch(&core, &a.0, id, p, "api").await?.into(),
    ))
}

/// Import a roster as CSV (`name,unit,role,tags,phone,wecom_userid`, tags separated by `;`).
/// The whole file is checked first; bad lines are reported and skipped, and the rest are
/// written in one transaction (up to 100,000 lines).
#[utoipa::path(post, path = "/api/v1/admin/members/import", tag = "organisation", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportResponse), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
#[post("/admin/members/import")]
pub async fn import_members(
    core: web::Data<Core>,
    a: Auth,
    mut payload: web::Payload,
) -> ApiResult<web::Json<ImportResponse>> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("could not read the body: {e}")))?;
        if body.len() + chunk.len() > MAX_CSV_BYTES {
            return Err(ApiError::PayloadTooLarge(format!(
                "a roster file may be at most {MAX_CSV_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(web::Json(
        import::import_csv(&core, &a.0, &body).await?.into(),
    ))
}
