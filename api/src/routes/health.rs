//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use fingertip_core::Core;
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

/// 200 when the database (and the queue's Redis, if configured) answer; 503 naming what failed.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready"), (status = 503, description = "a dependency is down")))]
#[get("/readyz")]
pub async fn readyz(core: web::Data<Core>) -> HttpResponse {
    let db = fingertip_core::db::ping(&core.db)
        .await
        .map_err(|e| e.to_string());
    let queue = core.queue.ping().await.map_err(|e| e.to_string());
    let mut failed = serde_json::Map::new();
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: database down");
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
        HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "failed": failed}))
    }
}
