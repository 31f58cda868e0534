//! The study benchmark (issue 13): heartbeats from M members at once (`--study-members`,
//! default 10,000), each on their own item of a study lesson, through the real API server in
//! this process.
//!
//! Seeds the members and one lesson broadcast to all of them (fanned out by the real worker),
//! opens a session for each, then sends every member's heartbeats from C concurrent
//! connections (`--study-connections`, default 64; each one keep-alive HTTP/1.1 connection):
//! 1. the first heartbeat of each member's reading (it starts the session's clock: one row
//!    written);
//! 2. a second after that round ended, the next heartbeat of each (credited: the session, the
//!    item's row, and the item locked on PostgreSQL, in one transaction).
//!
//! Prints each round's heartbeats per second with p50 and p99, and the process's memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fingertip_core::auth::Role;
use fingertip_core::entities::{inbox_items, study_entries};
use fingertip_core::settings::redact_url;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::memory::memory;
use crate::target::Target;

pub struct StudyOpts {
    pub members: u64,
    pub connections: usize,
}

type Conn = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One member's heartbeat: where, with what token.
struct Reader {
    path: String,
    auth: HeaderValue,
}

/// What one round measured.
struct Round {
    done: usize,
    failed: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Round {
    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {:.0} heartbeats/s, p50 {:.1} ms, p99 {:.1} ms ({} done in {:.2} s, {} failed)",
            self.done as f64 / self.secs,
            self.p50_ms,
            self.p99_ms,
            self.done,
            self.secs,
            self.failed
        )
    }
}

/// Every reader's heartbeat (`visible` seconds), from `conns` connections at once.
async fn round(
    addr: SocketAddr,
    host: &HeaderValue,
    readers: &Arc<Vec<Reader>>,
    conns: usize,
    visible: u32,
) -> Round {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (readers, next, host) = (readers.clone(), next.clone(), host.clone());
            tokio::spawn(async move {
                let mut lat: Vec<u32> = Vec::new();
                let mut failed = 0usize;
                let mut conn: Option<Conn> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = readers.get(i) else { break };
                    let t = Instant::now();
                    let body = format!(
                        r#"{{"session":"bench-reader-{i:06}","visible_seconds":{visible}}}"#
                    );
                    let ok = async {
                        if conn.as_ref().is_none_or(Conn::is_closed) {
                            conn = Some(connect(addr).await?);
                        }
                        let c = conn
                            .as_mut()
                            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
                        c.ready().await?;
                        let mut req = hyper::Request::new(Full::new(Bytes::from(body)));
                        *req.method_mut() = hyper::Method::POST;
                        *req.uri_mut() = r.path.parse()?;
                        let h = req.headers_mut();
                        h.insert(hyper::header::HOST, host.clone());
                        h.insert(hyper::header::AUTHORIZATION, r.auth.clone());
                        h.insert(
                            hyper::header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        );
                        let resp = c.send_request(req).await?;
                        let status = resp.status().as_u16();
                        resp.into_body().collect().await?;
                        anyhow::ensure!(status == 200, "answered {status}");
                        anyhow::Ok(())
                    }
                    .await
                    .is_ok();
                    if ok {
                        lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                    } else {
                        conn = None;
                        failed += 1;
                    }
                }
                (lat, failed)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        if let Ok((lat, f)) = t.await {
            all.extend(lat);
            failed += f;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |per_mille: usize| {
        if all.is_empty() {
            return 0.0;
        }
        f64::from(all[(all.len() - 1) * per_mille / 1000]) / 1000.0
    };
    Round {
        done: all.len(),
        failed,
        secs,
        p50_ms: pct(500),
        p99_ms: pct(990),
    }
}

pub async fn run(o: &StudyOpts, target: &Target) -> anyhow::Result<()> {
    let app = crate::setup::app(target, None, &[]).await?;
    let core = app.core.clone();
    println!(
        "study benchmark: heartbeats of {} members at once on {}, {} connections",
        o.members,
        redact_url(&target.url),
        o.connections
    );
    let t = Instant::now();
    let (unit_id, _, admin_id) = crate::fanout::seed(&core, o.members).await?;
    crate::fanout::lessons_to_all(
        &core,
        unit_id,
        admin_id,
        ["十二月党课：审计人的初心与使命".to_string()],
    )
    .await?;
    let items = inbox_items::Entity::find().all(&core.db).await?;
    let mut readers = Vec::with_capacity(items.len());
    for item in &items {
        let token = crate::setup::token(&core, item.member_id, Role::Member).await?;
        readers.push(Reader {
            path: format!("/api/v1/inbox/{}/study", item.id),
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
        });
    }
    println!(
        "seeded {} members with an item each, and their sessions, in {:.1} s",
        readers.len(),
        t.elapsed().as_secs_f64()
    );
    let readers = Arc::new(readers);
    let (addr, handle) = crate::setup::serve(core.clone())?;
    let host = HeaderValue::from_str(&addr.to_string())?;
    let opened = round(addr, &host, &readers, o.connections, 0).await;
    // A second after the last of them, so that every second heartbeat earns time (the server
    // counts whole seconds of wall time).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let credited = round(addr, &host, &readers, o.connections, 1).await;
    // Counted before the server stops: connections its workers opened end with their runtimes.
    let entries = study_entries::Entity::find()
        .filter(study_entries::Column::Seconds.gt(0))
        .count(&core.db)
        .await;
    handle.stop(true).await;
    let entries = entries?;
    println!("{}", opened.line("first heartbeats (sessions start)"));
    println!("{}", credited.line("next heartbeats (time credited)"));
    println!(
        "items with reading time credited: {entries} of {}",
        readers.len()
    );
    println!("{}", memory());
    Ok(())
}
