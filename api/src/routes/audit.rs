//! The audit log (admin).

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use fingertip_core::auth::Role;
use fingertip_core::paging::PageRequest;
use fingertip_core::{Core, CoreError, audit};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::common::id_str;
use crate::dto::{Paged, parse_ids};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Manager;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_audit);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this member's actions.
    pub actor_id: Option<String>,
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// One admin write request: who, what, when, and how it ended (refused ones too).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    pub id: String,
    pub at: DateTime<Utc>,
    /// Null when the request carried no valid token.
    pub actor_id: Option<String>,
    pub actor_role: Option<String>,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "operations", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Paged<AuditEntryResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/audit")]
pub async fn list_audit(
    core: web::Data<Core>,
    m: Manager,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Paged<AuditEntryResponse>>> {
    if m.0.role != Role::Admin {
        return Err(CoreError::Forbidden("the audit log is for admins".into()).into());
    }
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let actor = match q.actor_id.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => Some(parse_ids("actor_id", &[crate::dto::IdIn::Str(a.to_string())])?[0]),
        None => None,
    };
    let p = audit::list(&core, actor, page).await?;
    Ok(web::Json(Paged::from_page(p, |e| AuditEntryResponse {
        id: id_str(e.id),
        at: e.at,
        actor_id: e.actor_member_id.map(id_str),
        actor_role: e.actor_role,
        method: e.method,
        path: e.path,
        status: e.status,
    })))
}
