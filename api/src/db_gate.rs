//! The database gate: while the shared health state says the database is down, a request that
//! needs it is answered 503 `unavailable` with `Retry-After` at once, instead of waiting out
//! the pool's acquire timeout; and a response whose cause was an outage tells the health state,
//! whose probe then decides (see `fingertip_core::db::health`). Liveness, readiness, metrics
//! and the API document are served whatever the database does.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use fingertip_core::Core;
use fingertip_core::db::Unavailable;
use fingertip_core::metrics;

use crate::error::{ApiError, DbUnavailable};

/// Paths answered without the database.
pub(crate) fn needs_database(path: &str) -> bool {
    !matches!(
        path,
        "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json"
    ) && path != "/docs"
        && !path.starts_with("/docs/")
}

pub async fn gate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let Some(core) = req.app_data::<web::Data<Core>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    if !core.db_health.is_up() && needs_database(req.path()) {
        metrics::db_unavailable("refused");
        let resp = if crate::pages::is_page(req.path()) {
            crate::pages::database_down(req.request())
        } else {
            ApiError::DatabaseDown.error_response()
        };
        return Ok(req.into_response(resp).map_into_right_body());
    }
    let res = next.call(req).await?;
    let cause = res.response().extensions().get::<DbUnavailable>().copied();
    if let Some(DbUnavailable(kind)) = cause {
        metrics::db_unavailable(kind.as_str());
        if kind == Unavailable::Outage {
            core.db_health.suspect();
            // While the health is up this is a pool that gave no connection in time (or the
            // first moment of an outage, which the health then logs once).
            if core.db_health.is_up() {
                tracing::warn!(
                    path = %res.request().path(),
                    "request failed: no database connection within the acquire timeout (pool busy, or the database going away)"
                );
            }
        }
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::needs_database;

    #[test]
    fn operations_paths_are_served_without_the_database() {
        for p in [
            "/healthz",
            "/readyz",
            "/metrics",
            "/api/openapi.json",
            "/docs",
            "/docs/index.html",
        ] {
            assert!(!needs_database(p), "{p}");
        }
        for p in [
            "/api/v1/inbox",
            "/api/v1/ws",
            "/api/v1/admin/broadcasts",
            "/docsx",
        ] {
            assert!(needs_database(p), "{p}");
        }
    }
}
