//! The live inbox WebSocket, `GET /api/v1/ws`.

use std::time::Duration;

use fingertip_api::LiveOptions;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::*;
use crate::requests::*;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(5);

async fn connect(url: &str) -> Ws {
    let (ws, resp) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
        .await
        .expect("connects in time")
        .expect("the upgrade succeeds");
    assert_eq!(resp.status(), 101);
    ws
}

/// The next JSON message; pings and pongs are skipped (and answered by the client).
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .expect("a valid frame");
        match m {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON text"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a JSON message, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame; returns its code and reason.
async fn next_close(ws: &mut Ws) -> (u16, String) {
    loop {
        let m = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a close within 5 s")
            .expect("a close frame before the end")
            .expect("a valid frame");
        match m {
            Message::Close(Some(f)) => return (u16::from(f.code), f.reason.as_str().to_string()),
            Message::Close(None) => return (1005, String::new()),
            Message::Text(t) => panic!("expected a close, got {t}"),
            _ => continue,
        }
    }
}

struct Setup {
    admin: String,
    member: Value,
    token: String,
}

async fn member_setup(app: &TestApp) -> Setup {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "支部", None).await;
    let member = app
        .create_member(&admin, json!({"name": "刘九", "unit_id": unit}))
        .await;
    let token = app.member_token(&member).await;
    Setup {
        admin,
        member,
        token,
    }
}

async fn broadcast_to(app: &TestApp, s: &Setup, title: &str) {
    let post = app.create_post(&s.admin, title).await;
    let to_member = Audience::members([id(&s.member)]);
    app.broadcast(&s.admin, Broadcast::new(&post, to_member))
        .await;
}

#[tokio::test]
async fn ws_sends_the_count_on_connect_new_items_and_reads() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let mut ws = connect(&app.ws_url(&s.token)).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "inbox.unread_count", "unread_count": 0})
    );

    broadcast_to(&app, &s, "十月党课").await;
    app.drain().await;
    let m = next_json(&mut ws).await;
    assert_eq!(m["type"], "inbox.new");
    assert_eq!(m["unread_count"], 1);
    let listed = app.get("/api/v1/inbox", &s.token).await;
    assert_eq!(
        m["item"], listed.body["items"][0],
        "the pushed item is the listed item"
    );
    assert_eq!(m["item"]["title"], "十月党课");

    let id = m["item"]["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/inbox/{id}/read"), &s.token, json!({}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "inbox.unread_count", "unread_count": 0})
    );

    // Reading again changes nothing, so nothing is sent: the next message is our pong.
    app.post(&format!("/api/v1/inbox/{id}/read"), &s.token, json!({}))
        .await;
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));

    // Two more, then read-all. (The count in a message is the count when it was sent.)
    broadcast_to(&app, &s, "第二课").await;
    app.drain().await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 1);
    broadcast_to(&app, &s, "第三课").await;
    app.drain().await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 2);
    let r = app
        .post("/api/v1/inbox/read-all", &s.token, json!({}))
        .await;
    assert_eq!(r.body["updated"], 2);
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "inbox.unread_count", "unread_count": 0})
    );

    // Client text that is not a ping is ignored.
    ws.send(Message::text("hello")).await.unwrap();
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn ws_takes_the_token_from_the_authorization_header_and_sees_only_its_own_items() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let unit = app.create_unit(&s.admin, "二支部", None).await;
    let other = app
        .create_member(&s.admin, json!({"name": "旁人", "unit_id": unit}))
        .await;
    let other_token = app.member_token(&other).await;

    let url = format!("{}/api/v1/ws", app.base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", s.token).parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(next_json(&mut ws).await["unread_count"], 0);
    let mut theirs = connect(&app.ws_url(&other_token)).await;
    assert_eq!(next_json(&mut theirs).await["unread_count"], 0);

    broadcast_to(&app, &s, "只给刘九").await;
    app.drain().await;
    assert_eq!(next_json(&mut ws).await["item"]["title"], "只给刘九");
    // The other member got nothing: their next message is the pong to their ping.
    theirs
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(next_json(&mut theirs).await, json!({"type": "pong"}));
}

#[tokio::test]
async fn ws_with_a_bad_expired_or_missing_token_closes_with_1008_and_says_why() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let base = app.base.replacen("http://", "ws://", 1);

    let mut ws = connect(&app.ws_url("not-a-token")).await;
    let (code, reason) = next_close(&mut ws).await;
    assert_eq!(code, 1008);
    assert!(reason.starts_with("unauthorized: "), "{reason}");
    assert!(reason.contains("not valid"), "{reason}");

    let mut ws = connect(&format!("{base}/api/v1/ws")).await;
    let (code, reason) = next_close(&mut ws).await;
    assert_eq!(code, 1008);
    assert!(
        reason.starts_with("unauthorized: missing access token"),
        "{reason}"
    );

    app.clock.advance(chrono::Duration::minutes(16));
    let mut ws = connect(&app.ws_url(&s.token)).await;
    let (code, reason) = next_close(&mut ws).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("expired"), "{reason}");
}

#[tokio::test]
async fn ws_without_an_upgrade_is_a_400_in_the_error_envelope() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let r = app.get("/api/v1/ws", &s.token).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.detail_fields(), vec!["upgrade"]);
}

#[tokio::test]
async fn ws_closes_with_token_expired_when_the_access_token_runs_out() {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        live: Some(LiveOptions {
            ping_interval: Duration::from_millis(100),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    let s = member_setup(&app).await;
    let mut ws = connect(&app.ws_url(&s.token)).await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 0);
    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(next_close(&mut ws).await, (1008, "token_expired".into()));
}

/// A socket that never answers: speaks just enough of the protocol to read frames.
struct Silent {
    r: BufReader<TcpStream>,
}

impl Silent {
    async fn connect(base: &str, token: &str) -> Self {
        let addr = base.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "GET /api/v1/ws?access_token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut r = BufReader::new(s);
        let mut status = String::new();
        r.read_line(&mut status).await.unwrap();
        assert!(status.contains(" 101 "), "{status}");
        loop {
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
        }
        Self { r }
    }

    /// The next frame's opcode and payload (server frames are unmasked); `None` at the end.
    async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut h = [0u8; 2];
        self.r.read_exact(&mut h).await.ok()?;
        let len = match h[1] & 0x7f {
            126 => self.r.read_u16().await.ok()? as usize,
            127 => self.r.read_u64().await.ok()? as usize,
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        self.r.read_exact(&mut payload).await.ok()?;
        Some((h[0] & 0x0f, payload))
    }
}

#[tokio::test]
async fn ws_drops_a_socket_that_stops_answering_pings_and_keeps_one_that_answers() {
    let app = spawn_with(SpawnOptions {
        wechat: true,
        // Wide enough that a busy CI machine still answers in time.
        live: Some(LiveOptions {
            ping_interval: Duration::from_millis(250),
            missed_pings: 2,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    let s = member_setup(&app).await;

    // The answering client keeps reading (so it answers pings) and forwards its messages.
    let mut good = connect(&app.ws_url(&s.token)).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(m)) = good.next().await {
            if let Message::Text(t) = m {
                let _ = tx.send(serde_json::from_str(t.as_str()).unwrap());
            }
        }
    });
    let first = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first["type"], "inbox.unread_count");

    let mut silent = Silent::connect(&app.base, &s.token).await;
    let (mut pings, mut close) = (0, None);
    tokio::time::timeout(WAIT, async {
        while let Some((op, payload)) = silent.frame().await {
            match op {
                0x9 => pings += 1,
                0x8 => {
                    close = Some(payload);
                    break;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the silent socket is dropped within 5 s");
    assert!(pings >= 1, "it was pinged first");
    let close = close.expect("a close frame");
    assert_eq!(u16::from_be_bytes([close[0], close[1]]), 1001);
    assert_eq!(&close[2..], b"ping_timeout");

    // The answering socket has lived through the same intervals and is still served.
    broadcast_to(&app, &s, "还在线").await;
    app.drain().await;
    let m = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m["type"], "inbox.new");
    assert_eq!(m["item"]["title"], "还在线");
    reader.abort();
}

/// Two API processes: the member's socket is on A; the fan-out runs on B's worker and the read
/// goes through B's HTTP. With FINGERTIP_TEST_REDIS_URL (and FINGERTIP_TEST_DATABASE_URL) the
/// peer is built from the same settings and the events cross through Redis; without, the two
/// servers share one core and its in-process pub/sub.
#[tokio::test]
async fn ws_updates_cross_api_servers() {
    let app = spawn_app().await;
    let peer = app.spawn_peer().await;
    let s = member_setup(&app).await;
    let mut on_a = connect(&app.ws_url(&s.token)).await;
    assert_eq!(next_json(&mut on_a).await["unread_count"], 0);

    broadcast_to(&app, &s, "跨进程").await;
    peer.drain().await;
    let m = next_json(&mut on_a).await;
    assert_eq!(m["type"], "inbox.new");
    assert_eq!(m["item"]["title"], "跨进程");
    assert_eq!(m["unread_count"], 1);

    let id = m["item"]["id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/inbox/{id}/read", peer.base))
        .bearer_auth(&s.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        next_json(&mut on_a).await,
        json!({"type": "inbox.unread_count", "unread_count": 0})
    );

    // And the other way round: a socket on B hears of a fan-out run by A's worker.
    let mut on_b = connect(&peer.ws_url(&s.token)).await;
    assert_eq!(next_json(&mut on_b).await["unread_count"], 0);
    broadcast_to(&app, &s, "反方向").await;
    app.drain().await;
    assert_eq!(next_json(&mut on_b).await["item"]["title"], "反方向");
    assert_eq!(next_json(&mut on_a).await["item"]["title"], "反方向");
}

/// Events that queue up while the hub is busy are told in the order they came, whatever
/// they are: a fan-out batch as a release before this one published it (the members only: the
/// hub reads their items), a count, and a batch that carries its items (the hub does not read
/// them back). Each item told is the item the inbox lists, with the count as it stands.
#[tokio::test]
async fn ws_tells_events_that_queued_up_in_order_with_or_without_their_items() {
    use fingertip_core::entities::inbox_items;
    use fingertip_core::ports::{DeliveredItems, Event};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let app = spawn_app().await;
    let s = member_setup(&app).await;
    broadcast_to(&app, &s, "第一").await;
    broadcast_to(&app, &s, "第二").await;
    app.drain().await;
    let mut ws = connect(&app.ws_url(&s.token)).await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 2);
    let listed = app.get("/api/v1/inbox", &s.token).await;
    let (second, first) = (&listed.body["items"][0], &listed.body["items"][1]);
    assert_eq!(first["title"], "第一");

    let member_id: i64 = id(&s.member).parse().unwrap();
    let rows = inbox_items::Entity::find()
        .filter(inbox_items::Column::MemberId.eq(member_id))
        .order_by_asc(inbox_items::Column::Id)
        .all(&app.core.db)
        .await
        .unwrap();
    let events = [
        Event::InboxDelivered {
            broadcast_id: rows[0].broadcast_id,
            occurrence: rows[0].occurrence,
            member_ids: vec![member_id],
            items: None,
        },
        Event::UnreadChanged {
            member_id,
            unread_count: 7,
        },
        Event::InboxDelivered {
            broadcast_id: rows[1].broadcast_id,
            occurrence: rows[1].occurrence,
            // A member with no socket here is passed over.
            member_ids: vec![member_id + 1000, member_id],
            items: Some(DeliveredItems {
                post_id: rows[1].post_id,
                created_at: rows[1].created_at,
                ids: vec![rows[1].id + 1000, rows[1].id],
            }),
        },
    ];
    for e in &events {
        app.core.pubsub.publish(e).await.unwrap();
    }
    let m = next_json(&mut ws).await;
    assert_eq!(
        (&m["type"], &m["item"], &m["unread_count"]),
        (&json!("inbox.new"), first, &json!(2))
    );
    assert_eq!(
        next_json(&mut ws).await,
        json!({"type": "inbox.unread_count", "unread_count": 7})
    );
    let m = next_json(&mut ws).await;
    assert_eq!(
        (&m["type"], &m["item"], &m["unread_count"]),
        (&json!("inbox.new"), second, &json!(2))
    );
}

#[tokio::test]
async fn ws_sockets_close_with_1001_when_the_server_shuts_down_and_do_not_hold_it_up() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = fingertip_api::build(
        app.core.clone(),
        listener,
        fingertip_api::ServerOptions {
            workers: 1,
            shutdown_timeout_secs: 30,
            shutdown: Some(stop.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    let handle = server.handle();
    let running = tokio::spawn(server);
    let mut ws = connect(&ws_url(&base, &s.token)).await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 0);

    // What App::serve does on SIGTERM: cancel, then stop gracefully.
    stop.cancel();
    tokio::time::timeout(WAIT, handle.stop(true))
        .await
        .expect("a graceful stop does not wait for open sockets");
    assert_eq!(next_close(&mut ws).await, (1001, "server_shutdown".into()));
    let _ = running.await;
}

#[tokio::test]
async fn ws_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let r = app
        .request(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    let op = &r.body["paths"]["/api/v1/ws"]["get"];
    assert!(op.is_object(), "GET /api/v1/ws is documented");
    let params: Vec<(&str, &str, bool)> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or(""),
                p["in"].as_str().unwrap_or(""),
                p["required"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(params, vec![("access_token", "query", false)]);
    assert!(op["responses"]["101"].is_object());
    assert!(r.body["components"]["schemas"]["LiveMessage"].is_object());
}

/// The raw answer to an upgrade request: status line and body.
async fn raw_upgrade(base: &str, head: &str) -> (String, Value) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("{head}Host: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut all = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut all))
        .await
        .expect("answered and closed in time")
        .unwrap();
    let text = String::from_utf8(all).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn ws_upgrades_elsewhere_or_broken_handshakes_get_the_error_envelope() {
    let app = spawn_app().await;
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let (status, body) = raw_upgrade(
        &app.base,
        &format!("GET /api/v1/inbox HTTP/1.1\r\n{upgrade}Sec-WebSocket-Version: 13\r\n"),
    )
    .await;
    assert!(status.contains(" 404 "), "{status}");
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) =
        raw_upgrade(&app.base, &format!("GET /api/v1/ws HTTP/1.1\r\n{upgrade}")).await;
    assert!(status.contains(" 400 "), "{status}");
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Sec-WebSocket-Version"),
        "{body}"
    );
}

#[tokio::test]
async fn ws_refuses_a_client_frame_over_4_kib_with_1002() {
    let app = spawn_app().await;
    let s = member_setup(&app).await;
    let mut ws = connect(&app.ws_url(&s.token)).await;
    assert_eq!(next_json(&mut ws).await["unread_count"], 0);
    // Small messages are fine, a big one ends the socket.
    ws.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next_json(&mut ws).await, json!({"type": "pong"}));
    ws.send(Message::text("x".repeat(5000))).await.unwrap();
    assert_eq!(next_close(&mut ws).await, (1002, "protocol_error".into()));
}
