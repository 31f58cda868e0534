//! The read benchmark (issue 11): the inbox page under load, beside what the database alone
//! does with the page's own query in the same run.
//!
//! Seeds M members (`--read-members`, default 10,000) and B broadcasts to all of them
//! (`--read-broadcasts`, default 100: M × B inbox rows, fanned out by the real worker), opens
//! sessions for T members (`--read-tokens`, default 200), starts the real API server in this
//! process, and for `--read-seconds` each (after a second of warm-up) drives with C concurrent
//! connections (`--read-connections`, default 32):
//! 1. `GET /api/v1/inbox?limit=20`, the members' tokens in turn;
//! 2. the same with `If-None-Match` (a phone polling an unchanged inbox: 304);
//! 3. the reference: the page's own query (`… WHERE member_id = $1 ORDER BY id DESC LIMIT 21`)
//!    through the same driver and pool, C at a time, its text fixed (as the page's is);
//! 4. the same query built by sea-orm's query builder on every call (the reference before);
//! 5. the page as the core makes it, without HTTP, token or JSON;
//! 6. `GET /healthz` (the HTTP stack alone).
//!
//! Prints requests per second with p50 and p99 for each, the ratio of (1) to (3), and the
//! process's memory. On PostgreSQL the server reads the pages asked for at the same moment in
//! one statement (`inbox::page`): it says how many pages each statement read during (1) and its
//! warm-up. The
//! reference runs one query per call, as a page alone would.
//!
//! The load runs in this process, on the same cores as the server (as wrk on the same machine
//! would). Like wrk, each of the C connections is one keep-alive HTTP/1.1
//! connection driven with hyper's connection API, with the requests' headers made once: the
//! client costs the process little, so the figures are the server's. (Before, the load went
//! through reqwest, whose per-request work — parsing the URL, the pool — took CPU from the
//! server on these 2 cores: `--reqwest-load` runs that way still, for comparison.)

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fingertip_core::auth::Role;
use fingertip_core::entities::{inbox_items, members};
use fingertip_core::settings::redact_url;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use hyper::header::HeaderValue;

use crate::memory::memory;
use crate::target::Target;

pub struct ReadOpts {
    pub members: u64,
    pub broadcasts: u64,
    pub tokens: u64,
    pub connections: usize,
    pub seconds: u64,
    /// Drive the HTTP parts through reqwest (the earlier load generator) instead of one hyper
    /// connection per task.
    pub reqwest_load: bool,
}

/// What one load run measured.
struct Stats {
    done: usize,
    failed: usize,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.done as f64 / self.secs
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what}: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms ({} done, {} failed)",
            self.rate(),
            self.p50_ms,
            self.p99_ms,
            self.done,
            self.failed
        )
    }
}

/// Runs `call(n)` from `conns` tasks at once for `dur` (after `warm` of the same, not
/// counted) and measures each call.
async fn drive<F, Fut>(conns: usize, warm: Duration, dur: Duration, call: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let measure_from = started + warm;
    let until = measure_from + dur;
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let call = call.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut lat: Vec<u32> = Vec::new();
                let mut failed = 0usize;
                loop {
                    let t = Instant::now();
                    if t >= until {
                        break;
                    }
                    let ok = call(next.fetch_add(1, Ordering::Relaxed)).await.is_ok();
                    if t >= measure_from {
                        if ok {
                            let us = t.elapsed().as_micros();
                            lat.push(u32::try_from(us).unwrap_or(u32::MAX));
                        } else {
                            failed += 1;
                        }
                    }
                }
                (lat, failed)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        if let Ok(r) = t.await {
            results.push(r);
        }
    }
    summarize(results, dur)
}

/// One keep-alive HTTP/1.1 connection to the server.
type Conn = hyper::client::conn::http1::SendRequest<http_body_util::Empty<hyper::body::Bytes>>;

async fn connect(addr: SocketAddr) -> anyhow::Result<Conn> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Like [`drive`], with one connection per task (opened again after a failure): `request(n)`
/// is sent, and the answer must have status `expect`; its body is read to the end.
async fn drive_http<F>(
    addr: SocketAddr,
    conns: usize,
    warm: Duration,
    dur: Duration,
    expect: u16,
    request: F,
) -> Stats
where
    F: Fn(usize) -> hyper::Request<http_body_util::Empty<hyper::body::Bytes>>
        + Send
        + Sync
        + 'static,
{
    use http_body_util::BodyExt;
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let measure_from = Instant::now() + warm;
    let until = measure_from + dur;
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut lat: Vec<u32> = Vec::new();
                let mut failed = 0usize;
                let mut conn: Option<Conn> = None;
                loop {
                    let t = Instant::now();
                    if t >= until {
                        break;
                    }
                    let req = request(next.fetch_add(1, Ordering::Relaxed));
                    let ok = async {
                        if conn.as_ref().is_none_or(Conn::is_closed) {
                            conn = Some(connect(addr).await?);
                        }
                        let c = conn
                            .as_mut()
                            .ok_or_else(|| anyhow::anyhow!("no connection"))?;
                        c.ready().await?;
                        let resp = c.send_request(req).await?;
                        let status = resp.status().as_u16();
                        resp.into_body().collect().await?;
                        anyhow::ensure!(status == expect, "answered {status}");
                        anyhow::Ok(())
                    }
                    .await
                    .is_ok();
                    if !ok {
                        conn = None;
                    }
                    if t >= measure_from {
                        if ok {
                            let us = t.elapsed().as_micros();
                            lat.push(u32::try_from(us).unwrap_or(u32::MAX));
                        } else {
                            failed += 1;
                        }
                    }
                }
                (lat, failed)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        if let Ok(r) = t.await {
            results.push(r);
        }
    }
    summarize(results, dur)
}

/// Latencies (µs) and failures of the tasks of one run, as its [`Stats`].
fn summarize(results: Vec<(Vec<u32>, usize)>, dur: Duration) -> Stats {
    let mut all: Vec<u32> = Vec::new();
    let mut failed = 0;
    for (lat, f) in results {
        all.extend(lat);
        failed += f;
    }
    all.sort_unstable();
    // The value below which `per_mille` of the calls fall.
    let pct = |per_mille: usize| {
        if all.is_empty() {
            return 0.0;
        }
        let i = (all.len() - 1) * per_mille / 1000;
        f64::from(all[i]) / 1000.0
    };
    Stats {
        done: all.len(),
        failed,
        secs: dur.as_secs_f64(),
        p50_ms: pct(500),
        p99_ms: pct(990),
    }
}

const PAGE_PATH: &str = "/api/v1/inbox?limit=20";

/// The page's own query, as the issue states it: the member's newest rows, one more than a page
/// (the limit in the text: SQLite prepares a statement with a bound `LIMIT` again on every run).
const REFERENCE_SQL: &str =
    "SELECT * FROM inbox_items WHERE member_id = $1 ORDER BY id DESC LIMIT 21";

/// A GET of `path` with its headers made beforehand.
fn request(
    path: &'static str,
    host: &HeaderValue,
    auth: Option<&HeaderValue>,
    etag: Option<&HeaderValue>,
) -> hyper::Request<http_body_util::Empty<hyper::body::Bytes>> {
    let mut req = hyper::Request::new(http_body_util::Empty::new());
    *req.uri_mut() = hyper::Uri::from_static(path);
    let h = req.headers_mut();
    h.insert(hyper::header::HOST, host.clone());
    if let Some(a) = auth {
        h.insert(hyper::header::AUTHORIZATION, a.clone());
    }
    if let Some(e) = etag {
        h.insert(hyper::header::IF_NONE_MATCH, e.clone());
    }
    req
}

pub async fn run(o: &ReadOpts, target: &Target) -> anyhow::Result<()> {
    let app = crate::setup::app(target, None, &[]).await?;
    let core = app.core.clone();
    println!(
        "read benchmark: {} members × {} broadcasts on {}, {} tokens, {} connections, {} s per part",
        o.members,
        o.broadcasts,
        redact_url(&target.url),
        o.tokens,
        o.connections,
        o.seconds
    );

    // Members, posts and broadcasts, fanned out by the real worker.
    let t = Instant::now();
    let (unit_id, _, admin_id) = crate::fanout::seed(&core, o.members).await?;
    crate::fanout::lessons_to_all(
        &core,
        unit_id,
        admin_id,
        (0..o.broadcasts).map(|i| format!("第{i}课：审计人的初心与使命")),
    )
    .await?;
    let rows = inbox_items::Entity::find().count(&core.db).await?;
    println!(
        "seeded {rows} inbox rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Sessions and access tokens for the first T members, as a login would make them.
    let ids: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(members::Column::Role.eq(Role::Member))
        .order_by_asc(members::Column::Id)
        .limit(o.tokens)
        .into_tuple()
        .all(&core.db)
        .await?;
    let mut tokens = Vec::with_capacity(ids.len());
    for id in &ids {
        tokens.push(crate::setup::token(&core, *id, Role::Member).await?);
    }
    anyhow::ensure!(!tokens.is_empty(), "no members to read as");

    let (addr, handle) = crate::setup::serve(core.clone())?;
    let base = format!("http://{addr}");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(o.connections)
        .build()?;
    let warm = Duration::from_secs(1);
    let dur = Duration::from_secs(o.seconds);
    let tokens = Arc::new(tokens);
    let page_url = format!("{base}/api/v1/inbox?limit=20");

    let host = HeaderValue::from_str(&addr.to_string())?;
    let auths: Arc<Vec<HeaderValue>> = Arc::new(
        tokens
            .iter()
            .map(|t| HeaderValue::from_str(&format!("Bearer {t}")))
            .collect::<Result<_, _>>()?,
    );
    let page = if o.reqwest_load {
        let (client, tokens, url) = (client.clone(), tokens.clone(), page_url.clone());
        drive(o.connections, warm, dur, move |n| {
            let req = client.get(&url).bearer_auth(&tokens[n % tokens.len()]);
            async move {
                let r = req.send().await?.error_for_status()?;
                r.bytes().await?;
                Ok(())
            }
        })
        .await
    } else {
        let (host, auths) = (host.clone(), auths.clone());
        drive_http(addr, o.connections, warm, dur, 200, move |n| {
            request(PAGE_PATH, &host, Some(&auths[n % auths.len()]), None)
        })
        .await
    };

    let together = core.pages.read_together();

    // Each member's current tag, then the polling phones.
    let mut tags = Vec::with_capacity(tokens.len());
    for t in tokens.iter() {
        let r = client.get(&page_url).bearer_auth(t).send().await?;
        let tag = r
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        tags.push(tag);
    }
    let tags = Arc::new(tags);
    let polled = if o.reqwest_load {
        let (client, tokens, url) = (client.clone(), tokens.clone(), page_url.clone());
        drive(o.connections, warm, dur, move |n| {
            let i = n % tokens.len();
            let req = client
                .get(&url)
                .bearer_auth(&tokens[i])
                .header("if-none-match", &tags[i]);
            async move {
                let r = req.send().await?;
                anyhow::ensure!(r.status() == 304, "answered {}", r.status());
                Ok(())
            }
        })
        .await
    } else {
        let etags: Vec<HeaderValue> = tags
            .iter()
            .map(|t| HeaderValue::from_str(t))
            .collect::<Result<_, _>>()?;
        let (host, auths) = (host.clone(), auths.clone());
        drive_http(addr, o.connections, warm, dur, 304, move |n| {
            let i = n % auths.len();
            request(PAGE_PATH, &host, Some(&auths[i]), Some(&etags[i]))
        })
        .await
    };

    let member_ids = Arc::new(ids);
    // The reference, its text fixed as the page's own is: what the database and the driver
    // do for it, and nothing else.
    let query = {
        let (core, member_ids) = (core.clone(), member_ids.clone());
        drive(o.connections, warm, dur, move |n| {
            let (core, m) = (core.clone(), member_ids[n % member_ids.len()]);
            async move {
                let stmt = Statement::from_sql_and_values(
                    core.db.get_database_backend(),
                    REFERENCE_SQL,
                    [m.into()],
                );
                core.db.query_all_raw(stmt).await?;
                Ok(())
            }
        })
        .await
    };
    // The same query built by sea-orm's query builder on every call, as the reference was
    // before (its building cost about a fifth of the database's work).
    let built = {
        let (core, member_ids) = (core.clone(), member_ids.clone());
        drive(o.connections, warm, dur, move |n| {
            let (core, m) = (core.clone(), member_ids[n % member_ids.len()]);
            async move {
                inbox_items::Entity::find()
                    .filter(inbox_items::Column::MemberId.eq(m))
                    .order_by_desc(inbox_items::Column::Id)
                    .limit(21)
                    .all(&core.db)
                    .await?;
                Ok(())
            }
        })
        .await
    };

    // The page as the core makes it (the statement, the headers, the count), without HTTP,
    // authentication or JSON: what lies between it and the reference is the database's, what
    // lies between it and the page is the server's.
    let core_page = {
        let (core, member_ids) = (core.clone(), member_ids.clone());
        drive(o.connections, warm, dur, move |n| {
            let (core, m) = (core.clone(), member_ids[n % member_ids.len()]);
            async move {
                let page = fingertip_core::paging::PageRequest::parse(Some(20), None)?;
                fingertip_core::inbox::list(&core, m, false, page).await?;
                Ok(())
            }
        })
        .await
    };

    let health = if o.reqwest_load {
        let (client, url) = (client.clone(), format!("{base}/healthz"));
        drive(o.connections, warm, dur, move |_| {
            let req = client.get(&url);
            async move {
                req.send().await?.error_for_status()?.bytes().await?;
                Ok(())
            }
        })
        .await
    } else {
        let host = host.clone();
        drive_http(addr, o.connections, warm, dur, 200, move |_| {
            request("/healthz", &host, None, None)
        })
        .await
    };
    handle.stop(true).await;

    println!(
        "load: {}",
        if o.reqwest_load {
            "reqwest (--reqwest-load)"
        } else {
            "one hyper HTTP/1.1 connection per task"
        }
    );
    println!("{}", page.line("GET /api/v1/inbox?limit=20"));
    if together.0 > 0 {
        println!(
            "  (its pages read together: {} statements for {} pages, {:.1} per statement)",
            together.0,
            together.1,
            together.1 as f64 / together.0 as f64
        );
    }
    println!("{}", polled.line("the same with If-None-Match (304)"));
    println!(
        "{}",
        query.line("reference: the page's own query through the same pool")
    );
    println!(
        "{}",
        built.line("the same query built by sea-orm on each call")
    );
    println!(
        "{}",
        core_page.line("the page in the core (no HTTP, no token, no JSON)")
    );
    println!("{}", health.line("GET /healthz"));
    println!(
        "ratio inbox page / its own query: {:.2} (goal: at least 0.5, then 0.7; p99 under 20 ms)",
        page.rate() / query.rate()
    );
    println!(
        "(to the query built on each call: {:.2}; the page in the core to its own query: {:.2})",
        page.rate() / built.rate(),
        core_page.rate() / query.rate()
    );
    println!("{}", memory());
    Ok(())
}
