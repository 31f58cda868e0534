//! The meeting calendar kept on time: a unit's year against the cadence (admins, secretaries of
//! the unit's subtree), and the cadence itself (read by managers, set by admins).

use actix_web::{get, put, web};
use fingertip_core::compliance::{self, rules};
use fingertip_core::{Core, CoreError};

use crate::dto::common::optional_query_id;
use crate::dto::compliance::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_rules)
        .service(put_rules)
        .service(unit_compliance);
}

/// A unit's year, rule by rule and period by period: met (by which meetings), due (days left,
/// meetings planned), missed, upcoming.
#[utoipa::path(get, path = "/api/v1/admin/compliance", tag = "meetings", security(("bearer" = [])),
    params(ComplianceQuery),
    responses((status = 200, body = ComplianceResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/compliance")]
pub async fn unit_compliance(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<ComplianceQuery>,
) -> ApiResult<web::Json<ComplianceResponse>> {
    let unit = optional_query_id("unit_id", q.unit_id.as_deref())?
        .ok_or_else(|| CoreError::invalid("unit_id", "is required"))?;
    Ok(web::Json(
        compliance::report(&core, &a.0, unit, q.year).await?.into(),
    ))
}

/// The cadence: one rule per meeting kind.
#[utoipa::path(get, path = "/api/v1/admin/compliance/rules", tag = "meetings", security(("bearer" = [])),
    responses((status = 200, body = ComplianceRulesResponse), (status = 403, body = ErrorBody)))]
#[get("/admin/compliance/rules")]
pub async fn get_rules(
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<web::Json<ComplianceRulesResponse>> {
    Ok(web::Json(ComplianceRulesResponse {
        rules: rules::list(&core, &a.0)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

/// Replace the cadence (admins only; audited `compliance.rules`).
#[utoipa::path(put, path = "/api/v1/admin/compliance/rules", tag = "meetings", security(("bearer" = [])),
    request_body = ComplianceRulesRequest,
    responses((status = 200, body = ComplianceRulesResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[put("/admin/compliance/rules")]
pub async fn put_rules(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<ComplianceRulesRequest>,
) -> ApiResult<web::Json<ComplianceRulesResponse>> {
    let input = body
        .into_inner()
        .rules
        .into_iter()
        .map(|r| rules::RuleInput {
            kind: r.kind,
            period: r.period,
            min_count: r.min_count,
            applies_to: r.applies_to,
            warn_days: r.warn_days,
        })
        .collect();
    Ok(web::Json(ComplianceRulesResponse {
        rules: rules::replace(&core, &a.0, input)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}
