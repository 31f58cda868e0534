//! `GET /api/v1/ws`: the live inbox over a WebSocket.
//!
//! The token comes in the `Authorization: Bearer` header or the `access_token` query parameter
//! (browsers and mini-programs cannot always set headers on a socket). The upgrade always
//! completes; a bad token then closes the socket with 1008 and `unauthorized: <why>`, because a
//! browser cannot read the body of a refused upgrade. A request that is not an upgrade gets the
//! usual JSON error (400).
//!
//! Close codes: 1000 the client closed; 1001 `server_shutdown` or `ping_timeout`; 1002
//! `protocol_error`; 1008 `unauthorized: …` or `token_expired`; 1011 `internal`; 1013
//! `too_slow` or `too_many_connections`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use chrono::{DateTime, Utc};
use fingertip_core::auth::service;
use fingertip_core::{Core, CoreError, inbox};
use tokio::time::Instant;

use crate::dto::live::{ClientMessage, LiveMessage, LiveQuery};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::bearer;
use crate::hub::{Hub, OPENING_WAIT};

/// Clients send little (pongs and the odd `{"type":"ping"}`): larger frames are refused.
const MAX_FRAME: usize = 4 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(live_socket);
}

/// The live inbox (WebSocket upgrade).
///
/// After the upgrade the server sends `{"type": "inbox.unread_count", "unread_count"}` at once,
/// then `{"type": "inbox.new", "item", "unread_count"}` for each new item and
/// `{"type": "inbox.unread_count", "unread_count"}` when the count changes. It pings every 30 s
/// and drops a socket that stays silent (no pong, no message) for two intervals; it closes the
/// socket with 1008 `token_expired` when the access token expires, and with 1008
/// `unauthorized: <why>` when the token is missing or bad. Text messages from the client are
/// ignored, except `{"type": "ping"}`, answered with `{"type": "pong"}`.
#[utoipa::path(get, path = "/api/v1/ws", tag = "inbox", security(("bearer" = [])),
    params(LiveQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open. The server sends `LiveMessage` JSON text frames (see the LiveMessage schema); a missing or bad token is a close with 1008 after the upgrade"),
        (status = 400, description = "not a WebSocket upgrade", body = ErrorBody)))]
#[get("/ws")]
pub async fn live_socket(
    req: HttpRequest,
    body: web::Payload,
    core: web::Data<Core>,
    hub: web::Data<Hub>,
) -> ApiResult<HttpResponse> {
    let token = bearer(&req).or_else(|| {
        web::Query::<LiveQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().access_token)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    });
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        CoreError::invalid(
            "upgrade",
            format!("this endpoint only takes a WebSocket upgrade ({e})"),
        )
    })?;
    let stream = stream.max_frame_size(MAX_FRAME);
    actix_web::rt::spawn(serve(
        core.into_inner(),
        hub.into_inner(),
        token,
        session,
        stream,
    ));
    Ok(response)
}

#[allow(clippy::unnecessary_wraps)] // `Session::close` takes an `Option<CloseReason>`
fn reason(code: CloseCode, text: impl Into<String>) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(text.into()),
    })
}

async fn close(session: Session, why: Option<CloseReason>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close(why)).await;
}

/// The close for a socket whose opening failed on `e`: the database out of reach or too busy
/// is 1013 (`unavailable`: come back later, as a 503 would say), anything else 1011.
fn failed(e: &CoreError, what: &str, member_id: Option<i64>) -> Option<CloseReason> {
    if e.unavailable().is_some() {
        tracing::warn!(error = %e, member.id = member_id, "{what}; the client is told to retry");
        reason(CloseCode::Again, "unavailable")
    } else {
        tracing::error!(error = %e, member.id = member_id, "{what}");
        reason(CloseCode::Error, "internal")
    }
}

/// Who is on the socket, and until when.
struct Caller {
    member_id: i64,
    expires: DateTime<Utc>,
}

async fn authorize(core: &Core, token: Option<&str>) -> Result<Caller, CoreError> {
    let token = token.ok_or_else(|| {
        CoreError::Unauthorized(
            "missing access token (Authorization: Bearer header or access_token query parameter)"
                .into(),
        )
    })?;
    let actor = service::authenticate(core, token).await?;
    let claims = core.tokens.verify_access(token, core.now())?;
    let expires = DateTime::from_timestamp(claims.exp, 0)
        .ok_or_else(|| CoreError::Unauthorized("the access token is not valid".into()))?;
    Ok(Caller {
        member_id: actor.member_id,
        expires,
    })
}

/// Removes the socket from the hub however the session ends.
struct Registered<'a> {
    hub: &'a Hub,
    member_id: i64,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.hub.registry.unregister(self.member_id, self.id);
    }
}

/// Runs one send on the session. False when it fails, when the hub drops the socket or the
/// server stops meanwhile, or when the client has not made room within `limit` (a client that
/// sends but never reads would otherwise park this task for good).
async fn send_bounded(
    hub: &Hub,
    kill: &tokio_util::sync::CancellationToken,
    limit: Duration,
    send: impl std::future::Future<Output = Result<(), actix_ws::Closed>>,
) -> bool {
    tokio::select! {
        r = tokio::time::timeout(limit, send) => matches!(r, Ok(Ok(()))),
        () = kill.cancelled() => false,
        () = hub.stopping() => false,
    }
}

/// A real-time instant for a wall-clock deadline on the core's clock.
fn instant_for(core: &Core, at: DateTime<Utc>) -> Instant {
    let left = (at - core.now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + left.min(Duration::from_secs(24 * 3600))
}

async fn serve(
    core: Arc<Core>,
    hub: Arc<Hub>,
    token: Option<String>,
    mut session: Session,
    mut stream: MessageStream,
) {
    hub.wait_ready().await;
    // A few sockets are opened at a time; the rest wait their turn here (see `Hub::opening`).
    let permit = tokio::select! {
        p = tokio::time::timeout(OPENING_WAIT, hub.opening.acquire()) => p.ok().and_then(Result::ok),
        () = hub.stopping() => {
            close(session, reason(CloseCode::Away, "server_shutdown")).await;
            return;
        }
    };
    let Some(permit) = permit else {
        close(session, reason(CloseCode::Again, "busy")).await;
        return;
    };
    let caller = match authorize(&core, token.as_deref()).await {
        Ok(c) => c,
        Err(CoreError::Unauthorized(m)) => {
            close(
                session,
                reason(CloseCode::Policy, format!("unauthorized: {m}")),
            )
            .await;
            return;
        }
        Err(e) => {
            close(
                session,
                failed(&e, "authenticating a WebSocket failed", None),
            )
            .await;
            return;
        }
    };
    let member_id = caller.member_id;
    let opts = hub.opts;
    let Ok(mut reg) = hub
        .registry
        .register(member_id, opts.send_buffer, opts.max_per_member)
    else {
        close(session, reason(CloseCode::Again, "too_many_connections")).await;
        return;
    };
    let _registered = Registered {
        hub: &hub,
        member_id,
        id: reg.id,
    };
    // Registered first, counted second: an update that lands in between is queued behind
    // this count, so the client never ends on a stale one.
    let first = match inbox::unread_count(&core, member_id).await {
        Ok(unread_count) => LiveMessage::UnreadCount { unread_count },
        Err(e) => {
            let why = failed(
                &e,
                "counting unread items for a WebSocket failed",
                Some(member_id),
            );
            close(session, why).await;
            return;
        }
    };
    drop(permit);
    let limit = opts.idle_timeout();
    if !send_bounded(&hub, &reg.kill, limit, session.text(first.to_json())).await {
        return;
    }
    tracing::debug!(member.id = member_id, conn.id = reg.id, "WebSocket open");

    let expired = |core: &Core| core.now() >= caller.expires;
    let mut last_heard = Instant::now();
    let mut pings =
        tokio::time::interval_at(Instant::now() + opts.ping_interval, opts.ping_interval);
    pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let expiry = tokio::time::sleep_until(instant_for(&core, caller.expires));
    tokio::pin!(expiry);

    let why = loop {
        tokio::select! {
            biased;
            () = hub.stopping() => break reason(CloseCode::Away, "server_shutdown"),
            () = reg.kill.cancelled() => break reason(CloseCode::Again, "too_slow"),
            out = reg.rx.recv() => match out {
                Some(text) => {
                    if !send_bounded(&hub, &reg.kill, limit, session.text(text)).await {
                        if reg.kill.is_cancelled() {
                            break reason(CloseCode::Again, "too_slow");
                        }
                        return;
                    }
                }
                None => break reason(CloseCode::Again, "too_slow"),
            },
            msg = stream.recv() => {
                last_heard = Instant::now();
                match msg {
                    None => return,
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, member.id = member_id, "WebSocket protocol error");
                        break reason(CloseCode::Protocol, "protocol_error");
                    }
                    Some(Ok(Message::Ping(bytes))) => {
                        if !send_bounded(&hub, &reg.kill, limit, session.pong(&bytes)).await {
                            return;
                        }
                    }
                    Some(Ok(Message::Close(r))) => {
                        break Some(r.map_or(CloseReason { code: CloseCode::Normal, description: None }, |r| CloseReason { code: r.code, description: None }));
                    }
                    Some(Ok(Message::Text(t))) => {
                        let is_ping = serde_json::from_str::<ClientMessage>(&t)
                            .is_ok_and(|m| m.kind == "ping");
                        if is_ping && !send_bounded(&hub, &reg.kill, limit, session.text(LiveMessage::Pong.to_json())).await {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                }
            }
            _ = pings.tick() => {
                if expired(&core) {
                    break reason(CloseCode::Policy, "token_expired");
                }
                if last_heard.elapsed() >= opts.idle_timeout() {
                    tracing::debug!(member.id = member_id, "dropping a silent WebSocket");
                    break reason(CloseCode::Away, "ping_timeout");
                }
                if !send_bounded(&hub, &reg.kill, limit, session.ping(b"")).await {
                    return;
                }
            }
            () = &mut expiry => {
                if expired(&core) {
                    break reason(CloseCode::Policy, "token_expired");
                }
                // The core's clock runs apart from real time (tests): look again later.
                expiry.as_mut().reset(instant_for(&core, caller.expires).max(Instant::now() + opts.ping_interval));
            }
        }
    };
    close(session, why).await;
}
