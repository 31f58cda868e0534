//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use fingertip_core::Core;
use fingertip_core::db::health::RETRY_AFTER_SECS;
use serde_json::json;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "alive")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database (and the queue's Redis, if configured) answer; 503 naming what failed,
/// with `Retry-After`. While the database is known to be down (see `db::health`) this answers
/// at once, without waiting for a connection.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready"),
    (status = 503, description = "a dependency is down", headers(("Retry-After" = u64, description = "seconds")))))]
#[get("/readyz")]
pub async fn readyz(core: web::Data<Core>) -> HttpResponse {
    let db = if core.db_health.is_up() {
        fingertip_core::db::ping(&core.db).await
    } else {
        Err(fingertip_core::db::DbErr::Custom("known to be down".into()))
    };
    let queue = core.queue.ping().await.map_err(|e| e.to_string());
    let mut failed = serde_json::Map::new();
    if let Err(e) = &db {
        if fingertip_core::db::is_outage(e) {
            core.db_health.suspect();
        }
        if core.db_health.is_up() {
            tracing::warn!(error = %e, "readiness: database down");
        }
        failed.insert("database".into(), json!("not answering"));
    }
    if let Err(e) = &queue {
        tracing::warn!(error = %e, "readiness: queue down");
        failed.insert(core.queue.name().into(), json!("not answering"));
    }
    if failed.is_empty() {
        HttpResponse::Ok()
            .json(json!({"status": "ready", "database": "ok", "queue": core.queue.name()}))
    } else {
        let mut body = json!({"status": "not_ready", "failed": failed});
        if let Some(d) = core.db_health.down_for() {
            body["database_down_secs"] = json!(d.as_secs());
        }
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()))
            .json(body)
    }
}
