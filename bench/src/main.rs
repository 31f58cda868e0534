//! `fingertip-bench`: the fan-out benchmark (N members, one broadcast to all, inbox rows per
//! second against the database's own bulk insert), the push benchmark (subscribe messages
//! per second through the real worker against the WeChat mock, under the rate limit) and the
//! read benchmark (the inbox page under load beside the page's own query). A binary
//! of its own, so that the `fingertip` binary carries neither the benchmarks nor the mock.

mod fanout;
mod import;
mod live;
mod memory;
mod push;
mod read;
mod setup;
mod study;
mod target;

use clap::Parser;

use crate::target::{Target, cleanup};

#[derive(Parser)]
#[command(
    name = "fingertip-bench",
    version,
    about = "Fan-out benchmark: N members, one broadcast to all, rows per second against the database's own bulk insert (PostgreSQL COPY, or SQLite multi-row inserts); then the push benchmark, then the read benchmark (the inbox page under load beside its own query), then the import, live and study benchmarks."
)]
struct Opts {
    /// Members to create.
    #[arg(long, default_value_t = 100_000)]
    members: u64,
    /// Database to use: a PostgreSQL URL (a fresh schema is made and dropped) or a SQLite
    /// URL. Default: a temporary SQLite file. FINGERTIP_DATABASE_URL is not read.
    #[arg(long)]
    database_url: Option<String>,
    /// Roster members per fan-out transaction (default: the worker's).
    #[arg(long)]
    batch: Option<u64>,
    /// Fan-out windows written at once (default: the worker's; PostgreSQL only).
    #[arg(long)]
    streams: Option<u64>,
    /// Recipients of the push benchmark, run at 0 ms and 50 ms mock latency (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    pushes: u64,
    /// The subscribe-message rate limit the push benchmark runs under (sends per second).
    #[arg(long, default_value_t = 1000)]
    push_rate: u64,
    /// Skip the fan-out benchmark.
    #[arg(long)]
    skip_fanout: bool,
    /// Skip the read benchmark.
    #[arg(long)]
    skip_read: bool,
    /// Members of the read benchmark.
    #[arg(long, default_value_t = 10_000)]
    read_members: u64,
    /// Broadcasts to all of them before the read benchmark.
    #[arg(long, default_value_t = 100)]
    read_broadcasts: u64,
    /// Members whose tokens the read load takes in turn.
    #[arg(long, default_value_t = 200)]
    read_tokens: u64,
    /// Concurrent connections of the read load.
    #[arg(long, default_value_t = 32)]
    read_connections: usize,
    /// Seconds each part of the read load runs.
    #[arg(long, default_value_t = 10)]
    read_seconds: u64,
    /// Drive the read benchmark's HTTP parts through reqwest (the earlier load generator, for
    /// comparison) instead of one hyper HTTP/1.1 connection per task.
    #[arg(long)]
    reqwest_load: bool,
    /// Skip the import benchmark.
    #[arg(long)]
    skip_import: bool,
    /// Roster sizes of the import benchmark.
    #[arg(long, value_delimiter = ',', default_values_t = [10_000u64, 100_000])]
    import_lines: Vec<u64>,
    /// Skip the live benchmark.
    #[arg(long)]
    skip_live: bool,
    /// Skip the study benchmark.
    #[arg(long)]
    skip_study: bool,
    /// Members of the study benchmark, each sending heartbeats on their own item.
    #[arg(long, default_value_t = 10_000)]
    study_members: u64,
    /// Concurrent connections of the study benchmark.
    #[arg(long, default_value_t = 64)]
    study_connections: usize,
    /// Members of the live benchmark's roster (the broadcast goes to all of them).
    #[arg(long, default_value_t = 100_000)]
    live_members: u64,
    /// Open live sockets, one per member (the server is a process of its own: each socket takes
    /// one file descriptor here and one there).
    #[arg(long, default_value_t = 10_000)]
    live_sockets: u64,
    /// The `fingertip` binary the live benchmark starts as its server (default: the one beside
    /// this executable, as `cargo build --release` leaves it).
    #[arg(long)]
    live_bin: Option<std::path::PathBuf>,
    /// Redis for the live benchmark: with it, the server is `fingertip serve` and the fan-out
    /// worker runs in the benchmark's process, the events going through Redis; without it, the
    /// embedded `fingertip` does both.
    #[arg(long)]
    redis_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match run(Opts::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fingertip-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(opts: Opts) -> anyhow::Result<()> {
    anyhow::ensure!(opts.members >= 1, "--members must be at least 1");
    if !opts.skip_fanout {
        let target = Target::new(opts.database_url.clone(), "fanout");
        let result = fanout::run(&opts.members, (opts.batch, opts.streams), &target).await;
        cleanup(&target).await;
        result?;
    }
    if opts.pushes > 0 {
        for latency_ms in [0u64, 50] {
            println!();
            let target = Target::new(opts.database_url.clone(), "push");
            let result = push::run(&target, opts.pushes, latency_ms, opts.push_rate).await;
            cleanup(&target).await;
            result?;
        }
    }
    if !opts.skip_read {
        println!();
        let target = Target::new(opts.database_url.clone(), "read");
        let o = read::ReadOpts {
            members: opts.read_members,
            broadcasts: opts.read_broadcasts,
            tokens: opts.read_tokens,
            connections: opts.read_connections,
            seconds: opts.read_seconds,
            reqwest_load: opts.reqwest_load,
        };
        let result = read::run(&o, &target).await;
        cleanup(&target).await;
        result?;
    }
    if !opts.skip_import {
        println!();
        let target = Target::new(opts.database_url.clone(), "import");
        let result = import::run(&opts.import_lines, &target).await;
        cleanup(&target).await;
        result?;
    }
    if !opts.skip_live {
        println!();
        let target = Target::new(opts.database_url.clone(), "live");
        let o = live::LiveOpts {
            members: opts.live_members,
            sockets: opts.live_sockets,
            bin: opts.live_bin.clone(),
            redis_url: opts.redis_url.clone(),
        };
        let result = live::run(&o, &target).await;
        cleanup(&target).await;
        result?;
    }
    if !opts.skip_study {
        println!();
        let target = Target::new(opts.database_url.clone(), "study");
        let o = study::StudyOpts {
            members: opts.study_members,
            connections: opts.study_connections,
        };
        let result = study::run(&o, &target).await;
        cleanup(&target).await;
        result?;
    }
    Ok(())
}
