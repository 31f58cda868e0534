//! The live benchmark (issue 11): N phones with the live inbox open (`--live-sockets`, default
//! 10,000), members of a roster of `--live-members` (default 100,000), one socket per member,
//! on the real `fingertip` binary started as a process of its own (`--live-bin`, by default
//! the `fingertip` beside this benchmark's executable), so that its memory is its own:
//! - without `--redis-url`, the embedded shape (`fingertip`: migrate, serve and the workers in
//!   one process), which fans the broadcast out itself;
//! - with it, `fingertip serve` alone, and the fan-out worker runs in this process, its
//!   events reaching the server through Redis (the split shape of `serve` + `work`).
//!
//! This process holds the client ends of the sockets, of members spread over the roster (the
//! last one included, so that the last fan-out batch has sockets too). A broadcast to all the
//! roster is then
//! fanned out, and the benchmark prints how long after the fan-out ended (`broadcasts.sent_at`)
//! the last socket was told (`inbox.new`), how many were, and the server process's resident
//! memory before and with the sockets (from /proc).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use fingertip_core::audience::Audience;
use fingertip_core::auth::{Actor, Role};
use fingertip_core::broadcasts::{BroadcastInput, Status, service};
use fingertip_core::entities::{broadcasts, members};
use fingertip_core::settings::redact_url;
use fingertip_workers::FanoutWorker;
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::memory::{memory, memory_of};
use crate::target::Target;

/// Sockets opened at once while connecting.
const CONNECT_AT_ONCE: usize = 100;

pub struct LiveOpts {
    pub members: u64,
    pub sockets: u64,
    pub bin: Option<std::path::PathBuf>,
    pub redis_url: Option<String>,
}

/// The server process, killed when dropped (also when the benchmark fails half-way).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The database URL as the server process must be given it: a PostgreSQL target's schema as
/// the connections' search path.
fn server_database_url(target: &Target) -> String {
    match &target.schema {
        Some(schema) => {
            let sep = if target.url.contains('?') { '&' } else { '?' };
            format!("{}{sep}options=-c%20search_path%3D{schema}", target.url)
        }
        None => target.url.clone(),
    }
}

fn server_bin(o: &LiveOpts) -> anyhow::Result<std::path::PathBuf> {
    let bin = match &o.bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.with_file_name("fingertip"),
    };
    anyhow::ensure!(
        bin.exists(),
        "no server binary at {} (build it with `cargo build --release`, or name it with --live-bin)",
        bin.display()
    );
    Ok(bin)
}

pub async fn run(o: &LiveOpts, target: &Target) -> anyhow::Result<()> {
    let secret = fingertip_core::auth::secrets::random_token(32);
    let mut extra = vec![("FINGERTIP_JWT_SECRET", secret.clone())];
    if let Some(r) = &o.redis_url {
        extra.push(("FINGERTIP_REDIS_URL", r.clone()));
    }
    let app = crate::setup::app(target, None, &extra).await?;
    let core = app.core.clone();
    let split = o.redis_url.is_some();
    println!(
        "live benchmark: {} sockets of a roster of {} on {}; the server is {} in a process of its own",
        o.sockets,
        o.members,
        redact_url(&target.url),
        if split {
            "`fingertip serve` (the fan-out worker runs here, through Redis)"
        } else {
            "`fingertip` (serve and workers)"
        }
    );
    let (unit_id, post_id, admin_id) = crate::fanout::seed(&core, o.members).await?;
    // The phones are spread over the whole roster, the last member included: some are in every
    // fan-out batch, the last batch too, so the last one told is told after the last batch.
    let all: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(members::Column::Role.eq(Role::Member))
        .order_by_asc(members::Column::Id)
        .into_tuple()
        .all(&core.db)
        .await?;
    let step = (all.len() / usize::try_from(o.sockets.max(1))?).max(1);
    let ids: Vec<i64> = all
        .iter()
        .rev()
        .step_by(step)
        .take(usize::try_from(o.sockets)?)
        .copied()
        .collect();
    let mut tokens = Vec::with_capacity(ids.len());
    for id in &ids {
        tokens.push(crate::setup::token(&core, *id, Role::Member).await?);
    }

    // The server: a free port, the same database, secret and Redis.
    let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let log_path = std::env::temp_dir().join(format!(
        "fingertip-bench-live-server-{}.log",
        std::process::id()
    ));
    let log = std::fs::File::create(&log_path)?;
    let mut cmd = Command::new(server_bin(o)?);
    if split {
        cmd.arg("serve");
    }
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FINGERTIP_DATABASE_URL", server_database_url(target))
        .env("FINGERTIP_JWT_SECRET", &secret)
        .env("FINGERTIP_BIND", addr.to_string())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if let Some(r) = &o.redis_url {
        cmd.env("FINGERTIP_REDIS_URL", r);
    }
    let server = Server(cmd.spawn().context("cannot start the server process")?);
    let pid = server.0.id();
    let client = reqwest::Client::new();
    let ready = Instant::now();
    loop {
        let r = client.get(format!("http://{addr}/readyz")).send().await;
        if r.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(60),
            "the server process did not become ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = memory_of(pid);

    // Each socket: connect, then report the moment its `inbox.new` arrives.
    let (told_tx, mut told_rx) = tokio::sync::mpsc::unbounded_channel::<DateTime<Utc>>();
    let (open_tx, mut open_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let t = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(CONNECT_AT_ONCE));
    for token in tokens {
        let (told_tx, open_tx, gate) = (told_tx.clone(), open_tx.clone(), gate.clone());
        let url = format!("ws://{addr}/api/v1/ws?access_token={token}");
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            // Small client buffers (tungstenite reads in 128 KiB by default).
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let ws = tokio::time::timeout(
                Duration::from_secs(30),
                tokio_tungstenite::connect_async_with_config(url, Some(config), true),
            )
            .await;
            let Ok(Ok((mut ws, _))) = ws else {
                let _ = open_tx.send(false);
                return;
            };
            // Open when the server has registered it: its first message is the unread count.
            let first = tokio::time::timeout(Duration::from_secs(60), ws.next()).await;
            drop(permit);
            let registered = matches!(&first, Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains("\"inbox.unread_count\""));
            let _ = open_tx.send(registered);
            if !registered {
                return;
            }
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(text) = m
                    && text.as_str().contains("\"inbox.new\"")
                {
                    let _ = told_tx.send(Utc::now());
                }
            }
        });
    }
    drop((told_tx, open_tx));
    let mut open = 0u64;
    let mut refused = 0u64;
    while open + refused < ids.len() as u64 {
        match open_rx.recv().await {
            Some(true) => open += 1,
            Some(false) => refused += 1,
            None => break,
        }
    }
    println!(
        "{open} sockets open and registered ({refused} failed) in {:.1} s; server process: {before} before them, {} with them",
        t.elapsed().as_secs_f64(),
        memory_of(pid)
    );

    let actor = Actor {
        member_id: admin_id,
        role: Role::Admin,
        unit_id: Some(unit_id),
        session_id: "bench".into(),
    };
    let b = service::create(
        &core,
        &actor,
        BroadcastInput {
            post_id,
            audience: Audience {
                all: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await?;
    let worker = split.then(|| FanoutWorker::new(core.clone(), "bench-live-worker"));
    let deadline = Instant::now() + Duration::from_secs(300);
    let sent = loop {
        if let Some(w) = &worker {
            w.run_once().await?;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let row = broadcasts::Entity::find_by_id(b.id)
            .one(&core.db)
            .await?
            .context("the benchmark broadcast vanished")?;
        if row.status == Status::Sent {
            break row;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the fan-out did not end in 300 s"
        );
    };
    let sent_at = sent.sent_at.context("a sent broadcast has its time")?;
    let mut told = 0u64;
    let mut first: Option<DateTime<Utc>> = None;
    let mut last: Option<DateTime<Utc>> = None;
    while told < open {
        match tokio::time::timeout(Duration::from_secs(10), told_rx.recv()).await {
            Ok(Some(at)) => {
                told += 1;
                first = Some(first.map_or(at, |f| f.min(at)));
                last = Some(last.map_or(at, |l| l.max(at)));
            }
            _ => break,
        }
    }
    let after = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "never".to_string(),
            |at| {
                let ms = (at - sent_at).num_milliseconds();
                if ms >= 0 {
                    format!("{:.2} s after the fan-out ended", ms as f64 / 1000.0)
                } else {
                    format!("{:.2} s before the fan-out ended", -ms as f64 / 1000.0)
                }
            },
        )
    };
    println!(
        "fan-out to {} members (created → sent in {:.2} s); {told} of {open} sockets told: the first {}, the last {} (goal: all within 1 s)",
        o.members + 1,
        (sent_at - b.created_at).num_milliseconds() as f64 / 1000.0,
        after(first),
        after(last),
    );
    println!(
        "server process (pid {pid}) with the sockets: {} (goal: under 200 MiB); this process (clients{}): {}",
        memory_of(pid),
        if split { " and the fan-out worker" } else { "" },
        memory()
    );
    println!(
        "the server's warnings and errors, if any: {}",
        log_path.display()
    );
    drop(server);
    Ok(())
}
