//! The live inbox's WebSocket transport. A WebSocket upgrade never reaches the actix-web app:
//! actix-http hands the connection to [`upgrade_service`] (`HttpService::upgrade`), which checks
//! the handshake, answers `101 Switching Protocols` itself, and runs the socket on the bare TCP
//! stream with tungstenite ([`session`]). So an open socket holds no HTTP/1 buffers (actix's
//! dispatcher keeps an 8 KiB read and an 8 KiB write buffer per connection, two thirds of what
//! a socket cost when it went through actix-ws), only tungstenite's small ones: 10,000 sockets
//! fit in one process's memory budget (issue 11).
//!
//! What the socket does for the client is unchanged: `GET /api/v1/ws` (the route in
//! `routes/ws.rs` documents it and answers a request that is not an upgrade with 400). An
//! upgrade to any other path, or a broken handshake, gets the JSON error envelope, written here
//! since no app is in between.

use std::convert::Infallible;
use std::sync::Arc;

use actix_codec::Framed;
use actix_http::{Request, h1};
use actix_service::{ServiceFactory, fn_service};
use actix_web::http::{Method, StatusCode, header};
use actix_web::rt::net::TcpStream;
use actix_web::{HttpMessage, web};
use fingertip_core::Core;
use futures_util::future::LocalBoxFuture;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::dto::live::LiveQuery;
use crate::error::{ErrorBody, ErrorDetail};
use crate::hub::Hub;

mod session;

/// The live inbox's path.
pub const PATH: &str = "/api/v1/ws";
/// Clients send little (pongs and the odd `{"type":"ping"}`): larger frames are refused.
pub const MAX_FRAME: usize = 4 * 1024;

/// tungstenite's buffers for one socket: reads start at 512 bytes (client messages are tiny and
/// a frame grows the buffer to its size, at most [`MAX_FRAME`]); writes go straight to the
/// socket, and at most 256 KiB may wait there for a client that does not read (the hub drops
/// such a socket long before: `LiveOptions::send_buffer`).
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME))
}

type Upgrade = (Request, Framed<TcpStream, h1::Codec>);

/// The service actix-http calls with every WebSocket upgrade (on any path).
pub fn upgrade_service(
    core: web::Data<Core>,
    hub: web::Data<Hub>,
) -> impl ServiceFactory<Upgrade, Config = (), Response = (), Error = Infallible, InitError = ()> {
    fn_service(move |(req, framed): Upgrade| {
        let (core, hub) = (core.clone().into_inner(), hub.clone().into_inner());
        // Boxed: the dispatcher keeps this future inline in every connection's state.
        let fut: LocalBoxFuture<'static, Result<(), Infallible>> = Box::pin(async move {
            upgrade(core, hub, req, framed).await;
            Ok(())
        });
        fut
    })
}

/// Why a handshake is refused: status, code and message of the JSON error.
struct Refusal(StatusCode, &'static str, &'static str);

fn check(req: &Request) -> Result<String, Refusal> {
    if req.path() != PATH {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route (only /api/v1/ws takes a WebSocket upgrade)",
        ));
    }
    if req.method() != Method::GET {
        return Err(Refusal(StatusCode::NOT_FOUND, "not_found", "no such route"));
    }
    let h = req.headers();
    let has = |name: header::HeaderName, token: &str| {
        h.get_all(name).any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has(header::CONNECTION, "upgrade") {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "a WebSocket upgrade needs Connection: Upgrade",
        ));
    }
    if !has(header::SEC_WEBSOCKET_VERSION, "13") {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "a WebSocket upgrade needs Sec-WebSocket-Version: 13",
        ));
    }
    h.get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
        .ok_or(Refusal(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            "a WebSocket upgrade needs Sec-WebSocket-Key",
        ))
}

/// The token from `Authorization: Bearer` or the `access_token` query parameter.
fn token(req: &Request) -> Option<String> {
    crate::extract::bearer_in(req.headers()).or_else(|| {
        web::Query::<LiveQuery>::from_query(req.uri().query().unwrap_or(""))
            .ok()
            .and_then(|q| q.into_inner().access_token)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    })
}

async fn upgrade(
    core: Arc<Core>,
    hub: Arc<Hub>,
    req: Request,
    framed: Framed<TcpStream, h1::Codec>,
) {
    let parts = framed.into_parts();
    let mut io = parts.io;
    // Whatever actix had not yet written (the answer to an earlier request on this connection)
    // goes first.
    if !parts.write_buf.is_empty() && io.write_all(&parts.write_buf).await.is_err() {
        return;
    }
    let accept = match check(&req) {
        Ok(accept) => accept,
        Err(Refusal(status, code, message)) => {
            let body = serde_json::to_string(&ErrorBody {
                error: ErrorDetail {
                    code,
                    message: message.into(),
                    details: vec![],
                },
            })
            .unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                body.len()
            );
            let _ = io.write_all(head.as_bytes()).await;
            let _ = io.write_all(body.as_bytes()).await;
            let _ = io.shutdown().await;
            return;
        }
    };
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
    );
    if io.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let token = token(&req);
    drop(req);
    // Bytes after the request head are the client's first frames (it may send before our 101).
    let early = parts.read_buf.to_vec();
    drop((parts.read_buf, parts.write_buf));
    let ws = WebSocketStream::from_partially_read(io, early, Role::Server, Some(config())).await;
    session::serve(core, hub, token, ws).await;
}
