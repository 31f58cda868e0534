//! Visits and talks (八必访, 八必谈): the occasions (managers read, admins set), the records of
//! a unit's managers (notes included), and the year's talks per member. Members have no route.

use actix_web::{HttpResponse, delete, get, post, put, web};
use fingertip_core::care::{categories, records, talks};
use fingertip_core::{Core, CoreError};

use crate::dto::care::*;
use crate::dto::common::optional_query_id;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_care_categories)
        .service(put_care_categories)
        .service(create_care_record)
        .service(list_care_records)
        .service(delete_care_record)
        .service(care_talk_year);
}

/// The occasions for a visit and for a talk (admins and secretaries).
#[utoipa::path(get, path = "/api/v1/admin/care/categories", tag = "care", security(("bearer" = [])),
    responses((status = 200, body = CareCategoriesBody), (status = 403, body = ErrorBody)))]
#[get("/admin/care/categories")]
pub async fn get_care_categories(
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<web::Json<CareCategoriesBody>> {
    Ok(web::Json(categories::list(&core, &a.0).await?.into()))
}

/// Replace both lists of occasions (admins only; audited `care.categories`).
#[utoipa::path(put, path = "/api/v1/admin/care/categories", tag = "care", security(("bearer" = [])),
    request_body = CareCategoriesBody,
    responses((status = 200, body = CareCategoriesBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/admin/care/categories")]
pub async fn put_care_categories(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CareCategoriesBody>,
) -> ApiResult<web::Json<CareCategoriesBody>> {
    Ok(web::Json(
        categories::replace(&core, &a.0, body.into_inner().into())
            .await?
            .into(),
    ))
}

/// Record a visit to or a talk with a member of the caller's scope (audited `care.record`,
/// without the notes).
#[utoipa::path(post, path = "/api/v1/admin/care/records", tag = "care", security(("bearer" = [])),
    request_body = CareRecordRequest,
    responses((status = 201, body = CareRecordResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/care/records")]
pub async fn create_care_record(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CareRecordRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let mut visitors = Vec::with_capacity(b.visitors.len());
    for (i, v) in b.visitors.iter().enumerate() {
        visitors.push(v.parse(&format!("visitors[{i}]"))?);
    }
    let input = records::RecordInput {
        member_id: b.member_id.parse("member_id")?,
        kind: b.kind,
        category: b.category,
        date: b.date,
        visitors,
        notes: b.notes,
    };
    let r: CareRecordResponse = records::record(&core, &a.0, input).await?.into();
    Ok(HttpResponse::Created().json(r))
}

/// The visits and talks of a unit's subtree (or of the caller's scope), newest first.
#[utoipa::path(get, path = "/api/v1/admin/care/records", tag = "care", security(("bearer" = [])),
    params(CareRecordQuery),
    responses((status = 200, body = CareRecordList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/care/records")]
pub async fn list_care_records(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<CareRecordQuery>,
) -> ApiResult<web::Json<CareRecordList>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?;
    let member = optional_query_id("member_id", q.member_id.as_deref())?;
    let items = records::list(&core, &a.0, unit, q.year, member).await?;
    Ok(web::Json(CareRecordList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Remove a record made in error (audited `care.remove`).
#[utoipa::path(delete, path = "/api/v1/admin/care/records/{id}", tag = "care", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/admin/care/records/{id}")]
pub async fn delete_care_record(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "record")?;
    records::remove(&core, &a.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who in a unit (with its subtree) has had a talk this year, and who has not.
#[utoipa::path(get, path = "/api/v1/admin/care/talks", tag = "care", security(("bearer" = [])),
    params(TalkYearQuery),
    responses((status = 200, body = TalkYearResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/care/talks")]
pub async fn care_talk_year(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<TalkYearQuery>,
) -> ApiResult<web::Json<TalkYearResponse>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?
        .ok_or_else(|| CoreError::invalid("unit_id", "is required"))?;
    Ok(web::Json(
        talks::year(&core, &a.0, unit, q.year).await?.into(),
    ))
}
