//! The study-hour ledger: reading heartbeats and a member's own year (members); a unit's year
//! with its CSV, one member's year, offline records and the targets (admins and secretaries;
//! targets are changed by admins only).

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use fingertip_core::Core;
use fingertip_core::auth::Role;
use fingertip_core::study::{ledger, plan, reading, records, targets};

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
        .service(get_plan)
        .service(save_plan)
        .service(link_plan_item)
        .service(publish_plan)
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

/// A unit's study plan of a year: its themes and the lessons planned month by month, each done
/// (its post went out), due or late.
#[utoipa::path(get, path = "/api/v1/admin/study/plans", tag = "study", security(("bearer" = [])),
    params(PlanQuery),
    responses((status = 200, body = PlanResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/study/plans")]
pub async fn get_plan(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<PlanQuery>,
) -> ApiResult<web::Json<PlanResponse>> {
    let unit = unit_param(q.unit_id.as_deref())?
        .ok_or_else(|| fingertip_core::CoreError::invalid("unit_id", "is required"))?;
    let year = q
        .year
        .unwrap_or_else(|| fingertip_core::study::year_of(&core, core.now()));
    Ok(web::Json(plan::get(&core, &a.0, unit, year).await?.into()))
}

/// Write a unit's study plan of a year (it replaces the one there was); audited.
#[utoipa::path(put, path = "/api/v1/admin/study/plans", tag = "study", security(("bearer" = [])),
    request_body = SavePlanRequest,
    responses((status = 200, body = PlanResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/admin/study/plans")]
pub async fn save_plan(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<SavePlanRequest>,
) -> ApiResult<web::Json<PlanResponse>> {
    let b = body.into_inner();
    let mut items = Vec::with_capacity(b.items.len());
    for (i, it) in b.items.into_iter().enumerate() {
        items.push(plan::ItemInput {
            id: it
                .id
                .map(|x| x.parse(&format!("items[{i}].id")))
                .transpose()?,
            month: it.month,
            theme: it.theme,
            title: it.title,
            post_id: match it.post_id {
                None => None,
                Some(None) => Some(None),
                Some(Some(p)) => Some(Some(p.parse(&format!("items[{i}].post_id"))?)),
            },
        });
    }
    let input = plan::PlanInput {
        unit_id: b.unit_id.parse("unit_id")?,
        year: b.year,
        title: b.title,
        themes: b.themes,
        items,
    };
    Ok(web::Json(plan::save(&core, &a.0, input).await?.into()))
}

/// Link a planned lesson to its post once written (or unlink it); audited.
#[utoipa::path(patch, path = "/api/v1/admin/study/plan-items/{id}", tag = "study", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LinkPlanItemRequest,
    responses((status = 200, body = PlanResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/admin/study/plan-items/{id}")]
pub async fn link_plan_item(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
    body: web::Json<LinkPlanItemRequest>,
) -> ApiResult<web::Json<PlanResponse>> {
    let id = path_id(&id, "planned lesson")?;
    let post = body
        .into_inner()
        .post_id
        .map(|p| p.parse("post_id"))
        .transpose()?;
    Ok(web::Json(plan::link(&core, &a.0, id, post).await?.into()))
}

/// Publish the plan to the unit's members as a post, sent now; audited.
#[utoipa::path(post, path = "/api/v1/admin/study/plans/{id}/publish", tag = "study", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PlanResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/admin/study/plans/{id}/publish")]
pub async fn publish_plan(
    core: web::Data<Core>,
    a: Auth,
    id: web::Path<String>,
) -> ApiResult<web::Json<PlanResponse>> {
    let id = path_id(&id, "study plan")?;
    Ok(web::Json(plan::publish(&core, &a.0, id).await?.into()))
}
