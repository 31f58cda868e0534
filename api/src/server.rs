//! Building the HTTP server: shared state, body limits, the error envelope for actix's own
//! extractor errors, refusals in the audit log, the database gate, request logs, the live hub,
//! and the routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_http::HttpService;
use actix_service::{IntoServiceFactory, ServiceFactoryExt, map_config};
use actix_web::dev::{AppConfig, Server, Service};
use actix_web::{App, HttpMessage, web};
use fingertip_core::Core;
use fingertip_core::audit;
use fingertip_core::auth::Actor;
use tokio_util::sync::CancellationToken;

use crate::error;
use crate::hub::{Hub, LiveOptions};
use crate::routes;

/// Largest JSON body accepted: room for the longest texts the core accepts (a 100,000
/// character lesson is about 300 KB of UTF-8).
pub const MAX_JSON_BYTES: usize = 512 * 1024;

pub struct ServerOptions {
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    /// WebSocket pings, idle drop and per-socket buffers.
    pub live: LiveOptions,
    /// When cancelled, open WebSockets are closed (1001) so that a graceful stop does not wait
    /// for them, and the live hub stops. Without it the hub stops when the server does.
    pub shutdown: Option<CancellationToken>,
    /// Take the client's address from `X-Forwarded-For` (behind a reverse proxy that
    /// overwrites it) instead of the TCP peer, for the abuse limits and the audit log.
    pub trust_forwarded_for: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            shutdown_timeout_secs: 10,
            live: LiveOptions::default(),
            shutdown: None,
            trust_forwarded_for: false,
        }
    }
}

/// Starts serving on `listener`. Signals are not handled here: the caller stops the returned
/// server (gracefully) through its handle, after cancelling `opts.shutdown` so that open
/// WebSockets close first. Must be called within a Tokio runtime: it spawns the live hub's
/// subscriber task.
pub fn build(
    core: Arc<Core>,
    listener: TcpListener,
    opts: ServerOptions,
) -> std::io::Result<Server> {
    // One hub per server (process); it stops when the server is dropped or `shutdown` fires.
    let hub = web::Data::from(Hub::start(core.clone(), opts.live, opts.shutdown.as_ref()));
    let data = web::Data::from(core);
    let trust = web::Data::new(crate::extract::TrustForwardedFor(opts.trust_forwarded_for));
    let addr = listener.local_addr()?;
    // actix-web's `HttpServer` does what follows, except that it offers no way to take over a
    // WebSocket upgrade: the live inbox runs on the bare connection (`crate::socket`).
    let builder = actix_server::Server::build();
    let graceful = builder.graceful_shutdown_signal();
    let server = builder
        .workers(opts.workers)
        .disable_signals()
        .shutdown_timeout(opts.shutdown_timeout_secs)
        .backlog(1024)
        .listen("fingertip-api", listener, move || {
            let graceful = graceful.clone();
            let app = App::new()
                .app_data(data.clone())
                .app_data(hub.clone())
                .app_data(trust.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_JSON_BYTES)
                        .error_handler(error::json_error),
                )
                .app_data(web::PayloadConfig::new(MAX_JSON_BYTES))
                .app_data(web::QueryConfig::default().error_handler(error::query_error))
                .app_data(web::PathConfig::default().error_handler(error::path_error))
                .wrap_fn({
                    let core = data.clone();
                    move |req, srv| {
                        // A signed-in caller refused an admin action (403) is on record: auditors
                        // want to see who tried what they may not do. Anonymous requests write
                        // nothing, and the entries per caller are bounded.
                        let admin = req
                            .path()
                            .starts_with("/api/v1/admin/")
                            .then(|| (req.method().to_string(), req.path().to_string()));
                        let fut = srv.call(req);
                        let core = core.clone();
                        async move {
                            let res = fut.await?;
                            if let Some((method, path)) = admin
                                && res.status() == actix_web::http::StatusCode::FORBIDDEN
                            {
                                let actor = res.request().extensions().get::<Actor>().cloned();
                                if let Some(actor) = actor {
                                    audit::record_denied(&core, &actor, &method, &path).await;
                                }
                            }
                            Ok(res)
                        }
                    }
                })
                // While the database is known to be down, 503 at once (inside the request metrics
                // and logs, so they count it).
                .wrap(actix_web::middleware::from_fn(crate::db_gate::gate))
                .wrap_fn(crate::telemetry::observe_request)
                // The last word on errors: any error actix answered on its own (a raw body over
                // the limit, say) leaves in the JSON envelope too.
                .wrap(
                    actix_web::middleware::ErrorHandlers::new()
                        .default_handler(error::ensure_envelope),
                )
                // Outermost: gzip for clients that accept it (20 inbox items, about 5 KB of JSON,
                // leave as about 1 KB); never for a WebSocket upgrade or a 304.
                .wrap(actix_web::middleware::Compress::default())
                .configure(routes::configure)
                .configure(crate::telemetry::configure)
                .default_service(web::to(error::no_route))
                .into_factory()
                .map_err(|e| e.error_response());
            HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = graceful.clone();
                    async move { signal.notified().await }
                })
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(addr)
                .upgrade(crate::socket::upgrade_service(data.clone(), hub.clone()))
                .finish(map_config(app, |()| AppConfig::default()))
                .tcp()
        })?
        .run();
    Ok(server)
}
