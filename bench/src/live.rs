//! The live benchmark (issue 11): N phones with the live inbox open (`--live-sockets`, default
//! 5,000: the client and the server ends share this process's file descriptors), members of a
//! roster of `--live-members` (default 100,000), one socket per member. A broadcast to all of
//! them is then fanned out by the real worker, and the benchmark prints how long after the end
//! of the fan-out the last socket was told (`inbox.new`), how many were, and the process's
//! memory with the sockets open (server and clients together: an upper bound for the server).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
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

use crate::memory::memory;
use crate::target::Target;

/// Sockets opened at once while connecting.
const CONNECT_AT_ONCE: usize = 100;

pub async fn run(members_n: u64, sockets: u64, target: &Target) -> anyhow::Result<()> {
    let app = crate::setup::app(target, None, &[]).await?;
    let core = app.core.clone();
    println!(
        "live benchmark: {sockets} sockets of a roster of {members_n} on {}",
        redact_url(&target.url)
    );
    let (unit_id, post_id, admin_id) = crate::fanout::seed(&core, members_n).await?;
    let ids: Vec<i64> = members::Entity::find()
        .select_only()
        .column(members::Column::Id)
        .filter(members::Column::Role.eq(Role::Member))
        .order_by_asc(members::Column::Id)
        .limit(sockets)
        .into_tuple()
        .all(&core.db)
        .await?;
    let mut tokens = Vec::with_capacity(ids.len());
    for id in &ids {
        tokens.push(crate::setup::token(&core, *id, Role::Member).await?);
    }

    let (addr, handle) = crate::setup::serve(core.clone())?;
    let before = memory();

    // Each socket: connect, then report the moment its `inbox.new` arrives.
    let (told_tx, mut told_rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let (open_tx, mut open_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let t = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(CONNECT_AT_ONCE));
    for token in tokens {
        let (told_tx, open_tx, gate) = (told_tx.clone(), open_tx.clone(), gate.clone());
        let url = format!("ws://{addr}/api/v1/ws?access_token={token}");
        tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            // Small client buffers (tungstenite reads in 128 KiB by default): the memory printed
            // is mostly the server's.
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let ws = tokio::time::timeout(
                Duration::from_secs(30),
                tokio_tungstenite::connect_async_with_config(url, Some(config), true),
            )
            .await;
            drop(permit);
            let Ok(Ok((mut ws, _))) = ws else {
                let _ = open_tx.send(false);
                return;
            };
            let _ = open_tx.send(true);
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(text) = m
                    && text.as_str().contains("\"inbox.new\"")
                {
                    let _ = told_tx.send(Instant::now());
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
        "{open} sockets open ({refused} failed) in {:.1} s; {before} before them, {} with them",
        t.elapsed().as_secs_f64(),
        memory()
    );

    let actor = Actor {
        member_id: admin_id,
        role: Role::Admin,
        unit_id: Some(unit_id),
        session_id: "bench".into(),
    };
    let worker = FanoutWorker::new(core.clone(), "bench-live-worker");
    let t = Instant::now();
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
    loop {
        worker.run_once().await?;
        let row = broadcasts::Entity::find_by_id(b.id)
            .one(&core.db)
            .await?
            .context("the benchmark broadcast vanished")?;
        if row.status == Status::Sent {
            break;
        }
    }
    let fanned = Instant::now();
    let mut told = 0u64;
    let mut last = fanned;
    while told < open {
        match tokio::time::timeout(Duration::from_secs(10), told_rx.recv()).await {
            Ok(Some(at)) => {
                told += 1;
                last = last.max(at);
            }
            _ => break,
        }
    }
    println!(
        "fan-out to {} members in {:.2} s; {told} of {open} sockets told, the last {:.2} s after the fan-out ended (goal: all within 1 s)",
        members_n + 1,
        (fanned - t).as_secs_f64(),
        last.saturating_duration_since(fanned).as_secs_f64()
    );
    println!("{}", memory());
    handle.stop(false).await;
    Ok(())
}
