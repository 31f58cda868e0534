//! One live socket, from its opening to its close: authenticate (a few at a time per process,
//! see `Hub::opening`), register with the hub, send the unread count, then forward the hub's
//! messages, ping, and close on expiry, silence, slowness or shutdown.
//!
//! Close codes: 1000 the client closed; 1001 `server_shutdown` or `ping_timeout`; 1002
//! `protocol_error`; 1008 `unauthorized: …` or `token_expired`; 1011 `internal`; 1013
//! `too_slow`, `too_many_connections`, `busy` or `unavailable`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use chrono::{DateTime, Utc};
use fingertip_core::auth::service;
use fingertip_core::{Core, CoreError, inbox};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::dto::live::{ClientMessage, LiveMessage};
use crate::hub::{Hub, OPENING_WAIT};

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;
type Stream = SplitStream<WebSocketStream<TcpStream>>;

#[allow(clippy::unnecessary_wraps)] // what `Message::Close` takes
fn reason(code: CloseCode, text: impl Into<String>) -> Option<CloseFrame> {
    Some(CloseFrame {
        code,
        reason: text.into().into(),
    })
}

/// Sends the close (within a second: a client that does not read gets no longer) and drops
/// the socket.
async fn close(mut sink: Sink, why: Option<CloseFrame>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        sink.send(Message::Close(why)).await?;
        sink.close().await
    })
    .await;
}

/// The close for a socket whose opening failed on `e`: the database out of reach or too busy
/// is 1013 (`unavailable`: come back later, as a 503 would say), anything else 1011.
fn failed(e: &CoreError, what: &str, member_id: Option<i64>) -> Option<CloseFrame> {
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

/// Sends one message. False when it fails, when the hub drops the socket or the server stops
/// meanwhile, or when the client has not made room within `limit` (a client that sends but
/// never reads would otherwise park this task for good).
async fn send_bounded(
    hub: &Hub,
    kill: &tokio_util::sync::CancellationToken,
    limit: Duration,
    sink: &mut Sink,
    msg: Message,
) -> bool {
    tokio::select! {
        r = tokio::time::timeout(limit, sink.send(msg)) => matches!(r, Ok(Ok(()))),
        () = kill.cancelled() => false,
        () = hub.stopping() => false,
    }
}

/// A real-time instant for a wall-clock deadline on the core's clock.
fn instant_for(core: &Core, at: DateTime<Utc>) -> Instant {
    let left = (at - core.now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + left.min(Duration::from_secs(24 * 3600))
}

/// What opening a socket came to: its caller and its turn among the sockets opening (held until
/// the first unread count is sent, so that a crowd reconnecting waits here rather than in the
/// database pool), or the close to send.
async fn open<'h>(
    core: &Core,
    hub: &'h Hub,
    token: Option<&str>,
) -> Result<(Caller, tokio::sync::SemaphorePermit<'h>), Option<CloseFrame>> {
    hub.wait_ready().await;
    // A few sockets are opened at a time; the rest wait their turn here (see `Hub::opening`).
    let permit = tokio::select! {
        p = tokio::time::timeout(OPENING_WAIT, hub.opening.acquire()) => p.ok().and_then(Result::ok),
        () = hub.stopping() => return Err(reason(CloseCode::Away, "server_shutdown")),
    };
    let Some(permit) = permit else {
        return Err(reason(CloseCode::Again, "busy"));
    };
    match authorize(core, token).await {
        Ok(c) => Ok((c, permit)),
        Err(CoreError::Unauthorized(m)) => {
            Err(reason(CloseCode::Policy, format!("unauthorized: {m}")))
        }
        Err(e) => Err(failed(&e, "authenticating a WebSocket failed", None)),
    }
}

pub(super) async fn serve(
    core: Arc<Core>,
    hub: Arc<Hub>,
    token: Option<String>,
    ws: WebSocketStream<TcpStream>,
) {
    let (mut sink, mut stream): (Sink, Stream) = ws.split();
    // Boxed, so that the socket's long-lived state does not carry the opening's (the database
    // queries) for as long as it stays open.
    let (caller, permit) = match Box::pin(open(&core, &hub, token.as_deref())).await {
        Ok(c) => c,
        Err(why) => return close(sink, why).await,
    };
    drop(token);
    let member_id = caller.member_id;
    let opts = hub.opts;
    let Ok(mut reg) = hub
        .registry
        .register(member_id, opts.send_buffer, opts.max_per_member)
    else {
        return close(sink, reason(CloseCode::Again, "too_many_connections")).await;
    };
    let _registered = Registered {
        hub: &hub,
        member_id,
        id: reg.id,
    };
    // Registered first, counted second: an update that lands in between is queued behind
    // this count, so the client never ends on a stale one.
    let first = match Box::pin(inbox::unread_count(&core, member_id)).await {
        Ok(unread_count) => LiveMessage::UnreadCount { unread_count },
        Err(e) => {
            let why = failed(
                &e,
                "counting unread items for a WebSocket failed",
                Some(member_id),
            );
            return close(sink, why).await;
        }
    };
    drop(permit);
    let limit = opts.idle_timeout();
    if !send_bounded(
        &hub,
        &reg.kill,
        limit,
        &mut sink,
        Message::text(first.to_json()),
    )
    .await
    {
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
                    if !send_bounded(&hub, &reg.kill, limit, &mut sink, Message::text(text)).await {
                        if reg.kill.is_cancelled() {
                            break reason(CloseCode::Again, "too_slow");
                        }
                        return;
                    }
                }
                None => break reason(CloseCode::Again, "too_slow"),
            },
            msg = stream.next() => {
                last_heard = Instant::now();
                match msg {
                    None => return,
                    Some(Err(e)) => {
                        use tokio_tungstenite::tungstenite::Error as E;
                        if matches!(e, E::ConnectionClosed | E::AlreadyClosed | E::Io(_)) {
                            return;
                        }
                        tracing::debug!(error = %e, member.id = member_id, "WebSocket protocol error");
                        break reason(CloseCode::Protocol, "protocol_error");
                    }
                    // tungstenite has queued the echo of the close; sending it ends the socket.
                    Some(Ok(Message::Close(_))) => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
                        return;
                    }
                    Some(Ok(Message::Text(t))) => {
                        let is_ping = serde_json::from_str::<ClientMessage>(&t)
                            .is_ok_and(|m| m.kind == "ping");
                        if is_ping && !send_bounded(&hub, &reg.kill, limit, &mut sink, Message::text(LiveMessage::Pong.to_json())).await {
                            return;
                        }
                    }
                    // Pings are answered by tungstenite itself; pongs only show the client is there.
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
                if !send_bounded(&hub, &reg.kill, limit, &mut sink, Message::Ping(Default::default())).await {
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
    close(sink, why).await;
}
