//! Units (admin).

use actix_web::{HttpResponse, get, post, web};
use fingertip_core::Core;
use fingertip_core::org::units;

use crate::dto::org::*;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(create_unit).service(list_units);
}

#[utoipa::path(post, path = "/api/v1/admin/units", tag = "organisation", security(("bearer" = [])),
    request_body = CreateUnitRequest, responses((status = 201, body = UnitResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[post("/admin/units")]
pub async fn create_unit(
    core: web::Data<Core>,
    a: Auth,
    body: web::Json<CreateUnitRequest>,
) -> ApiResult<HttpResponse> {
    let parent = body
        .parent_id
        .as_ref()
        .map(|p| p.parse("parent_id"))
        .transpose()?;
    let u = units::create(&core, &a.0, &body.name, parent).await?;
    Ok(HttpResponse::Created().json(UnitResponse::from(u)))
}

/// The unit tree (a secretary sees their own subtree).
#[utoipa::path(get, path = "/api/v1/admin/units", tag = "organisation", security(("bearer" = [])),
    responses((status = 200, body = UnitTreeResponse)))]
#[get("/admin/units")]
pub async fn list_units(core: web::Data<Core>, a: Auth) -> ApiResult<web::Json<UnitTreeResponse>> {
    let items = units::tree(&core, &a.0)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(web::Json(UnitTreeResponse { items }))
}
