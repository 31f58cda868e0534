//! Seeing the process run: the Prometheus recorder and `GET /metrics`, and, for every request,
//! a tracing span with its request id (`X-Request-Id`, taken from the client or made here),
//! route template and, once known, the member; plus the request counter and latency histogram.
//! The names of the metrics are in `fingertip_core::metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, get, web};
use fingertip_core::{Core, metrics as names};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::hub::Hub;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Buckets for every `_seconds` histogram: a millisecond to ten seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The process's Prometheus recorder, installed on first use (the `metrics` facade has one
/// global recorder per process). `None` if another recorder was installed first.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "no Prometheus recorder: /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics_text);
}

/// Prometheus text: requests, fan-out, pushes, the queue, sockets, the connection pool
/// (docs/operations.md lists them with the alerts to set).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics_text(core: web::Data<Core>, hub: Option<web::Data<Hub>>) -> HttpResponse {
    // The gauges are set from this process's state and then rendered: one scrape at a time, so
    // that two at once cannot mix their readings.
    static SCRAPE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = SCRAPE.lock().await;
    if let Err(e) = names::observe(&core).await {
        if e.is_outage() {
            core.db_health.suspect();
        } else {
            tracing::warn!(error = %e, "metrics: could not read the queue and pool gauges");
        }
    }
    if let Some(hub) = hub {
        ::metrics::gauge!(names::WS_CONNECTIONS).set(hub.registry.sockets() as f64);
    }
    let text = recorder()
        .map(|h| {
            h.run_upkeep();
            h.render()
        })
        .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}

/// A small server for a process without the API (`fingertip work`): `/metrics` and `/healthz`
/// on `listener`, until the returned server is stopped.
pub fn serve_metrics(
    core: std::sync::Arc<Core>,
    listener: std::net::TcpListener,
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::from(core);
    Ok(actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .service(metrics_text)
            .service(crate::routes::health::healthz)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(2)
    .listen(listener)?
    .run())
}

fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map_or_else(fingertip_core::trace::new_id, str::to_string)
}

/// Wraps a request: its span, its `X-Request-Id` answer header, the request log line and the
/// request metrics (by route template, never the raw path).
pub fn observe_request<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<
            ServiceRequest,
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: MessageBody,
{
    let request_id = request_id_of(&req);
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let path = req.path().to_string();
    let span = tracing::info_span!(
        "http.request",
        request.id = %request_id,
        http.method = %method,
        http.route = %route,
        member.id = tracing::field::Empty,
    );
    let start = Instant::now();
    let fut = span.in_scope(|| srv.call(req)).instrument(span.clone());
    async move {
        let mut res = fut.await?;
        let status = res.status().as_u16();
        let secs = start.elapsed().as_secs_f64();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            res.headers_mut().insert(REQUEST_ID, v);
        }
        ::metrics::counter!(names::HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
            .increment(1);
        ::metrics::histogram!(names::HTTP_DURATION, "method" => method, "route" => route)
            .record(secs);
        span.in_scope(|| {
            tracing::info!(
                http.path = %path,
                http.status = status,
                elapsed_ms = u64::try_from(std::time::Duration::from_secs_f64(secs).as_millis()).unwrap_or(u64::MAX),
                "request"
            );
        });
        Ok(res)
    }
}
