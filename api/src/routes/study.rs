//! The study-hour ledger: reading heartbeats and a member's own year (members); a unit's year
//! with its CSV, one member's year, offline records and the targets (admins and secretaries;
//! targets are changed by admins only).

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, put, web};
use fingertip_core::Core;
use fingertip_core::auth::Role;
use fingertip_core::study::{ledger, reading, records, targets};

use crate::dto::common::{Id, optional_query_id};
use crate::dto::study::*;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, path_id};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(heartbeat)
        .service(my_year)
        .service(unit_year_csv)
        .service(get_targets)
        .service(put_targets)
        .service(create_record)
        .service(delete_record)
        .service(unit_year)
        .service(member_year);
}

fn unit_param(raw: Option<&str>) -> ApiResult<Option<i64>> {
    Ok(optional_query_id("unit_id", raw)?)
}

/// Report reading time on an open item (the caller's own): every 30 s or so while it is shown,
/// and with `closed` when it is closed. The server credits what it can vouch for: at most the
/// wall time since this session's previous heartbeat, time no other device of the member
/// already counted, and the post's study minutes in all.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/study", tag = "study", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = StudyHeartbeatRequest,
    responses((status = 200, body = StudyCreditResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/inbox/{id}/study")]
pub async fn heartbeat(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<StudyHeartbeatRequest>,
) -> ApiResult<web::Json<StudyCreditResponse>> {
    let id = path_id(&id, "inbox item")?;
    let b = body.into_inner();
    let c = reading::heartbeat(
        &core,
        a.0.member_id,
        id,
        reading::Heartbeat {
            session: b.session,
            visible_seconds: b.visible_seconds,
            closed: b.closed,
        },
    )
    .await?;
    Ok(web::Json(StudyCreditResponse {
        credited_seconds: c.credited,
        total_seconds: c.total,
        limit_seconds: c.limit,
    }))
}

/// The caller's study year: total against target, every credit, and required reading not done.
#[utoipa::path(get, path = "/api/v1/me/study", tag = "study", security(("bearer" = [])),
    params(YearQuery), responses((status = 200, body = MemberYearResponse), (status = 400, body = ErrorBody)))]
#[get("/me/study")]
pub async fn my_year(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<YearQuery>,
) -> ApiResult<web::Json<MemberYearResponse>> {
    Ok(web::Json(ledger::mine(&core, &a.0, q.year).await?.into()))
}

/// A unit's study year, member by member (the unit's subtree; the caller's scope without
/// `unit_id`), furthest behind their share of the target first.
#[utoipa::path(get, path = "/api/v1/admin/study", tag = "study", security(("bearer" = [])),
    params(UnitYearQuery), responses((status = 200, body = UnitYearResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/study")]
pub async fn unit_year(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<UnitYearQuery>,
) -> ApiResult<web::Json<UnitYearResponse>> {
    let unit = unit_param(q.unit_id.as_deref())?;
    Ok(web::Json(
        ledger::unit_year(&core, &a.0, unit, q.year).await?.into(),
    ))
}

/// The same as CSV (UTF-8 with a BOM; header 姓名,单位,年度,目标学时,已完成学时,尚差学时,按进度应完成,是否落后).
#[utoipa::path(get, path = "/api/v1/admin/study.csv", tag = "study", security(("bearer" = [])),
    params(UnitYearQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/study.csv")]
pub async fn unit_year_csv(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<UnitYearQuery>,
) -> ApiResult<HttpResponse> {
    let unit = unit_param(q.unit_id.as_deref())?;
    let year = ledger::unit_year(&core, &a.0, unit, q.year).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"study-{}.csv\"", year.year),
        ))
        .body(ledger::unit_csv(&year)))
}

/// One member's study year, for a manager of their unit.
#[utoipa::path(get, path = "/api/v1/admin/members/{id}/study", tag = "study", security(("bearer" = [])),
    params(("id" = String, Path), YearQuery),
    responses((status = 200, body = MemberYearResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/members/{id}/study")]
pub async fn member_year(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    q: web::Query<YearQuery>,
) -> ApiResult<web::Json<MemberYearResponse>> {
    let id = path_id(&id, "member")?;
    Ok(web::Json(
        ledger::of_member(&core, &a.0, id, q.year).await?.into(),
    ))
}

/// Record offline study for a member of the caller's scope (audited `study.record`).
#[utoipa::path(post, path = "/api/v1/admin/study/records", tag = "study", security(("bearer" = [])),
    request_body = StudyRecordRequest,
    responses((status = 201, body = StudyRecordResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/study/records")]
pub async fn create_record(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<StudyRecordRequest>,
) -> ApiResult<HttpResponse> {
    let b = body.into_inner();
    let row = records::record(
        &core,
        &a.0,
        records::StudyRecord {
            member_id: b.member_id.parse("member_id")?,
            kind: b.kind,
            title: b.title,
            minutes: b.minutes,
            date: b.date,
            note: b.note,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(StudyRecordResponse {
        id: Id(row.id),
        member_id: Id(row.member_id),
        kind: row.kind.as_str().into(),
        title: row.title,
        minutes: row.seconds / 60,
        year: row.year,
        at: row.occurred_at,
        note: row.note,
    }))
}

/// Remove an offline record made in error (audited `study.remove`).
#[utoipa::path(delete, path = "/api/v1/admin/study/records/{id}", tag = "study", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/admin/study/records/{id}")]
pub async fn delete_record(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_id(&id, "study record")?;
    records::remove(&core, &a.0, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn targets_body(t: targets::Targets) -> StudyTargetsBody {
    StudyTargetsBody {
        default_minutes: t.default_minutes,
        roles: t
            .roles
            .into_iter()
            .map(|(r, m)| (r.as_str().to_string(), m))
            .collect(),
        tags: t.tags,
    }
}

/// The yearly study targets.
#[utoipa::path(get, path = "/api/v1/admin/study/targets", tag = "study", security(("bearer" = [])),
    responses((status = 200, body = StudyTargetsBody), (status = 403, body = ErrorBody)))]
#[get("/admin/study/targets")]
pub async fn get_targets(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<StudyTargetsBody>> {
    fingertip_core::access::require_manager(&a.0)?;
    Ok(web::Json(targets_body(targets::load(&core).await?)))
}

/// Replace the yearly study targets (admins; audited `study.targets`).
#[utoipa::path(put, path = "/api/v1/admin/study/targets", tag = "study", security(("bearer" = [])),
    request_body = StudyTargetsBody,
    responses((status = 200, body = StudyTargetsBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/admin/study/targets")]
pub async fn put_targets(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<StudyTargetsBody>,
) -> ApiResult<web::Json<StudyTargetsBody>> {
    let b = body.into_inner();
    let mut roles = std::collections::BTreeMap::new();
    for (name, minutes) in b.roles {
        let role: Role = name
            .parse()
            .map_err(|e: String| ApiError::Core(fingertip_core::CoreError::invalid("roles", e)))?;
        roles.insert(role, minutes);
    }
    let t = targets::replace(
        &core,
        &a.0,
        targets::Targets {
            default_minutes: b.default_minutes,
            roles,
            tags: b.tags,
        },
    )
    .await?;
    Ok(web::Json(targets_body(t)))
}
