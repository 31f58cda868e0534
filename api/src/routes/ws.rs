//! `GET /api/v1/ws`: the live inbox over a WebSocket. The socket itself is served by
//! `crate::socket` (a WebSocket upgrade never reaches this app); this route documents it and
//! answers a request that is not an upgrade with the usual JSON error (400).

use actix_web::{HttpResponse, get, web};
use fingertip_core::CoreError;

use crate::dto::live::LiveQuery;
use crate::error::{ApiResult, ErrorBody};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(live_socket);
}

/// The live inbox (WebSocket upgrade).
///
/// The token comes in the `Authorization: Bearer` header or the `access_token` query parameter
/// (browsers and mini-programs cannot always set headers on a socket). The upgrade always
/// completes; a bad token then closes the socket with 1008 and `unauthorized: <why>`, because a
/// browser cannot read the body of a refused upgrade.
///
/// After the upgrade the server sends `{"type": "inbox.unread_count", "unread_count"}` at once,
/// then `{"type": "inbox.new", "item", "unread_count"}` for each new item and
/// `{"type": "inbox.unread_count", "unread_count"}` when the count changes. It pings every 30 s
/// and drops a socket that stays silent (no pong, no message) for two intervals; it closes the
/// socket with 1008 `token_expired` when the access token expires, and with 1008
/// `unauthorized: <why>` when the token is missing or bad. Text messages from the client are
/// ignored, except `{"type": "ping"}`, answered with `{"type": "pong"}`.
///
/// Close codes: 1000 the client closed; 1001 `server_shutdown` or `ping_timeout`; 1002
/// `protocol_error`; 1008 `unauthorized: …` or `token_expired`; 1011 `internal`; 1013
/// `too_slow`, `too_many_connections`, `busy` or `unavailable`.
#[utoipa::path(get, path = "/api/v1/ws", tag = "inbox", security(("bearer" = [])),
    params(LiveQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open. The server sends `LiveMessage` JSON text frames (see the LiveMessage schema); a missing or bad token is a close with 1008 after the upgrade"),
        (status = 400, description = "not a WebSocket upgrade", body = ErrorBody)))]
#[get("/ws")]
pub async fn live_socket() -> ApiResult<HttpResponse> {
    Err(CoreError::invalid(
        "upgrade",
        "this endpoint only takes a WebSocket upgrade (Connection: Upgrade, Upgrade: websocket)",
    )
    .into())
}
