//! The audit log (admin): the chain of admin actions, and its verification.

use actix_web::{get, web};
use chrono::{DateTime, FixedOffset, Utc};
use fingertip_core::Core;
use fingertip_core::audit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::dto::common::Id;
use crate::dto::{Paged, query_id};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(verify_audit).service(list_audit);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this member's actions.
    #[param(max_length = 20)]
    pub actor_id: Option<String>,
    /// An action (`broadcast.cancel`), or a family of them (`broadcast`).
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// The kind of object acted on: `broadcast`, `member`, `post`, `unit`, `meeting`, …
    #[param(max_length = 32)]
    pub target_type: Option<String>,
    /// The id of the object acted on (with `target_type`).
    #[param(max_length = 64)]
    pub target_id: Option<String>,
    /// Entries at or after this time.
    pub since: Option<DateTime<FixedOffset>>,
    /// Entries before this time.
    pub until: Option<DateTime<FixedOffset>>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

/// One admin action: who, what, to which object, when, and its place in the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    /// The entry's position in the chain (1, 2, 3, …).
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Null for an anonymous caller (a failed login) or the system.
    #[schema(value_type = Option<String>)]
    pub actor_id: Option<Id>,
    pub actor_role: Option<String>,
    /// `broadcast.create`, `member.update`, `auth.login_failed`, …
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// A compact summary of what changed.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// `sha256(previous hash || this entry)`, hex.
    pub hash: String,
}

/// The audit log, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "operations", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Paged<AuditEntryResponse>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/admin/audit")]
pub async fn list_audit(
    core: web::Data<Core>,
    a: Auth,
    q: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Paged<AuditEntryResponse>>> {
    let page = fingertip_core::paging::PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let text = |v: &Option<String>, field: &str, max: usize| -> ApiResult<Option<String>> {
        let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty());
        match v {
            Some(v) if v.chars().count() > max => Err(fingertip_core::CoreError::invalid(
                field,
                format!("must be at most {max} characters"),
            )
            .into()),
            other => Ok(other.map(str::to_string)),
        }
    };
    let f = audit::Filter {
        actor_member_id: match text(&q.actor_id, "actor_id", 20)? {
            Some(a) => Some(query_id("actor_id", &a)?),
            None => None,
        },
        action: text(&q.action, "action", 64)?,
        target_type: text(&q.target_type, "target_type", 32)?,
        target_id: text(&q.target_id, "target_id", 64)?,
        since: q.since.map(|t| t.with_timezone(&Utc)),
        until: q.until.map(|t| t.with_timezone(&Utc)),
    };
    let p = audit::list(&core, &a.0, &f, page).await?;
    Ok(web::Json(Paged::from_page(p, |e| AuditEntryResponse {
        seq: e.seq,
        at: e.at,
        actor_id: e.actor_member_id.map(Id),
        actor_role: e.actor_role,
        action: e.action,
        target_type: e.target_type,
        target_id: e.target_id,
        summary: e.summary,
        hash: e.hash,
    })))
}

/// The result of recomputing the chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditVerifyResponse {
    /// True when every entry matches its hash and its predecessor, with no gap, up to the head.
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// The last entry that matched and its hash (a reference to write down and compare later).
    pub last_seq: i64,
    pub last_hash: String,
    /// The first entry that does not match, when one does not.
    pub first_mismatch: Option<AuditMismatch>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditMismatch {
    pub seq: i64,
    /// The row's id, when there is a row (a missing entry has none).
    #[schema(value_type = Option<String>)]
    pub id: Option<Id>,
    pub reason: String,
}

/// Recompute the audit chain from its first entry (admins only): ok, or the first entry that
/// does not match.
#[utoipa::path(get, path = "/api/v1/admin/audit/verify", tag = "operations", security(("bearer" = [])),
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = ErrorBody)))]
#[get("/admin/audit/verify")]
pub async fn verify_audit(
    core: web::Data<Core>,
    a: Auth,
) -> ApiResult<web::Json<AuditVerifyResponse>> {
    let v = audit::verify_as(&core, &a.0).await?;
    Ok(web::Json(AuditVerifyResponse {
        ok: v.ok(),
        entries: v.entries,
        last_seq: v.last_seq,
        last_hash: v.last_hash,
        first_mismatch: v.first_mismatch.map(|m| AuditMismatch {
            seq: m.seq,
            id: m.id.map(Id),
            reason: m.reason,
        }),
    }))
}
