//! Opening Party affairs with review (党务公开): the unit's managers take a disclosure from
//! draft to published; members read the archive; anyone reads the public part of it.

use actix_web::{HttpResponse, get, post, put, web};
use fingertip_core::disclosures::archive::{self, Reader};
use fingertip_core::disclosures::{Category, Scope, Status, review};
use fingertip_core::{Core, CoreError, CoreResult};

use crate::dto::common::optional_query_id;
use crate::dto::disclosures::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_disclosure)
        .service(list_disclosures)
        .service(get_disclosure)
        .service(update_disclosure)
        .service(submit_disclosure)
        .service(review_disclosure)
        .service(approve_disclosure)
        .service(return_disclosure)
        .service(publish_disclosure)
        .service(disclosure_archive)
        .service(archived_disclosure)
        .service(public_archive)
        .service(public_disclosure);
}

fn word<T>(field: &str, raw: &str, parse: fn(&str) -> Option<T>, choices: String) -> CoreResult<T> {
    parse(raw.trim()).ok_or_else(|| CoreError::invalid(field, format!("must be one of {choices}")))
}

fn category(raw: &str) -> CoreResult<Category> {
    word("category", raw, Category::parse, Category::choices())
}

fn scope(raw: &str) -> CoreResult<Scope> {
    word("scope", raw, Scope::parse, Scope::choices())
}

/// Start a disclosure from a post of kind `disclosure` (audited `disclosure.create`).
#[utoipa::path(post, path = "/api/v1/admin/disclosures", tag = "disclosures", security(("bearer" = [])),
    request_body = DisclosureRequest,
    responses((status = 201, body = DisclosureResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures")]
pub async fn create_disclosure(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<DisclosureRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let input = review::Input {
        post_id: b.post_id.parse("post_id")?,
        unit_id: b.unit_id.map(|u| u.parse("unit_id")).transpose()?,
        category: category(&b.category)?,
        scope: scope(&b.scope)?,
        year: b.year,
    };
    let r: DisclosureResponse = review::create(&core, &a.0, input).await?.into();
    Ok(HttpResponse::Created().json(r))
}

/// The disclosures of the units the caller manages, newest first.
#[utoipa::path(get, path = "/api/v1/admin/disclosures", tag = "disclosures", security(("bearer" = [])),
    params(DisclosureListQuery),
    responses((status = 200, body = DisclosureList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/disclosures")]
pub async fn list_disclosures(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<DisclosureListQuery>,
) -> ApiResult<web::Json<DisclosureList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| word("status", s, Status::parse, Status::choices()))
        .transpose()?;
    let items = review::list(&core, &a.0, unit, status, q.year).await?;
    Ok(web::Json(DisclosureList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One disclosure of a unit the caller manages: its steps, who took them and when.
#[utoipa::path(get, path = "/api/v1/admin/disclosures/{id}", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DisclosureResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/disclosures/{id}")]
pub async fn get_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(review::get(&core, &a.0, id).await?.into()))
}

/// Change a draft's category, scope or year (audited `disclosure.update`). Its text is its
/// post's: `PATCH /api/v1/admin/posts/{id}` while it is a draft.
#[utoipa::path(put, path = "/api/v1/admin/disclosures/{id}", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DisclosurePatch,
    responses((status = 200, body = DisclosureResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[put("/admin/disclosures/{id}")]
pub async fn update_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<DisclosurePatch>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    let c = body.category.as_deref().map(category).transpose()?;
    let s = body.scope.as_deref().map(scope).transpose()?;
    Ok(web::Json(
        review::update(&core, &a.0, id, c, s, body.year)
            .await?
            .into(),
    ))
}

/// Submit a draft for review (audited `disclosure.submit`).
#[utoipa::path(post, path = "/api/v1/admin/disclosures/{id}/submit", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DisclosureResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures/{id}/submit")]
pub async fn submit_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(review::submit(&core, &a.0, id).await?.into()))
}

/// Review a submitted disclosure, confirming the secrecy check (audited `disclosure.review`);
/// not by who submitted it (403).
#[utoipa::path(post, path = "/api/v1/admin/disclosures/{id}/review", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReviewRequest,
    responses((status = 200, body = DisclosureResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures/{id}/review")]
pub async fn review_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<ReviewRequest>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    let b = body.into_inner();
    Ok(web::Json(
        review::review(&core, &a.0, id, b.secrecy_checked, b.note)
            .await?
            .into(),
    ))
}

/// Approve a reviewed disclosure (audited `disclosure.approve`): an admin or a secretary of a
/// unit above, neither its submitter nor its reviewer (403 otherwise).
#[utoipa::path(post, path = "/api/v1/admin/disclosures/{id}/approve", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DisclosureResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures/{id}/approve")]
pub async fn approve_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(review::approve(&core, &a.0, id).await?.into()))
}

/// Send a submitted or reviewed disclosure back to draft with a reason (audited
/// `disclosure.return`), by whoever may take its next step.
#[utoipa::path(post, path = "/api/v1/admin/disclosures/{id}/return", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReturnRequest,
    responses((status = 200, body = DisclosureResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures/{id}/return")]
pub async fn return_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<ReturnRequest>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(
        review::send_back(&core, &a.0, id, &body.reason)
            .await?
            .into(),
    ))
}

/// Publish an approved disclosure to its scope now (audited `disclosure.publish`).
#[utoipa::path(post, path = "/api/v1/admin/disclosures/{id}/publish", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DisclosureResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/disclosures/{id}/publish")]
pub async fn publish_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<DisclosureResponse>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(review::publish(&core, &a.0, id).await?.into()))
}

/// The archive the caller may read: published disclosures (of a unit's subtree, of a year),
/// newest first.
#[utoipa::path(get, path = "/api/v1/disclosures", tag = "disclosures", security(("bearer" = [])),
    params(ArchiveQuery),
    responses((status = 200, body = ArchiveList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/disclosures")]
pub async fn disclosure_archive(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<ArchiveQuery>,
) -> ApiResult<web::Json<ArchiveList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let items = archive::list(&core, Reader::Member(&a.0), unit, q.year).await?;
    Ok(web::Json(ArchiveList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One published disclosure the caller may read, with its text.
#[utoipa::path(get, path = "/api/v1/disclosures/{id}", tag = "disclosures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ArchiveEntry), (status = 404, body = ErrorBody)))]
#[get("/disclosures/{id}")]
pub async fn archived_disclosure(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<ArchiveEntry>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(
        archive::get(&core, Reader::Member(&a.0), id).await?.into(),
    ))
}

/// The public archive, without signing in: the disclosures published to the public.
#[utoipa::path(get, path = "/api/v1/public/disclosures", tag = "disclosures",
    params(ArchiveQuery),
    responses((status = 200, body = ArchiveList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/public/disclosures")]
pub async fn public_archive(
    core: web::Data<Core>,
    q: web::Query<ArchiveQuery>,
) -> ApiResult<web::Json<ArchiveList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let items = archive::list(&core, Reader::Public, unit, q.year).await?;
    Ok(web::Json(ArchiveList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One disclosure published to the public, with its text.
#[utoipa::path(get, path = "/api/v1/public/disclosures/{id}", tag = "disclosures",
    params(("id" = String, Path)),
    responses((status = 200, body = ArchiveEntry), (status = 404, body = ErrorBody)))]
#[get("/public/disclosures/{id}")]
pub async fn public_disclosure(
    core: web::Data<Core>,
    id: web::Path<String>,
) -> ApiResult<web::Json<ArchiveEntry>> {
    let id = path_id(&id, "disclosure")?;
    Ok(web::Json(
        archive::get(&core, Reader::Public, id).await?.into(),
    ))
}
