//! The `fingertip` command line: one binary for every shape.

use clap::{Parser, Subcommand};
use fingertip::settings::ProcessSettings;
use fingertip::{App, AppOptions};
use fingertip_core::settings::Settings;

#[derive(Parser)]
#[command(
    name = "fingertip",
    version,
    about = "Fingertip: the fingertip classroom backend.\n\nWith no subcommand: apply migrations, then serve the API and run the workers in one process."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations and exit.
    Migrate,
    /// Serve the HTTP API only (refuses to start while migrations are pending).
    Serve,
    /// Run the background workers only (refuses to start while migrations are pending).
    Work,
    /// Fan-out benchmark: N members, one broadcast to all, rows per second against the
    /// database's own bulk insert (PostgreSQL COPY, or SQLite multi-row inserts).
    Bench {
        /// Members to create.
        #[arg(long, default_value_t = 100_000)]
        members: u64,
        /// Database to use: a PostgreSQL URL (a fresh schema is made and dropped) or a SQLite
        /// URL. Default: a temporary SQLite file. FINGERTIP_DATABASE_URL is not read.
        #[arg(long)]
        database_url: Option<String>,
        /// Recipients per fan-out transaction (default: the worker's).
        #[arg(long)]
        batch: Option<u64>,
        /// Recipients of the push benchmark, run at 0 ms and 50 ms mock latency (0 skips it).
        #[arg(long, default_value_t = 10_000)]
        pushes: u64,
        /// The subscribe-message rate limit the push benchmark runs under (sends per second).
        #[arg(long, default_value_t = 1000)]
        push_rate: u64,
        /// Run only the push benchmark.
        #[arg(long)]
        skip_fanout: bool,
    },
    /// The audit log: `fingertip audit verify` recomputes the hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run a local mock of the WeChat and WeCom servers, for demos and manual tests.
    MockWechat {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9100")]
        bind: std::net::SocketAddr,
        /// The app id the mock accepts.
        #[arg(long, default_value = "wx-mock-appid")]
        appid: String,
        /// The app secret the mock accepts.
        #[arg(long, default_value = "mock-secret")]
        secret: String,
        /// The WeCom corp id the mock accepts.
        #[arg(long, default_value = "ww-mock-corpid")]
        corpid: String,
        /// The secret of the mock's WeCom app.
        #[arg(long, default_value = "mock-corpsecret")]
        corpsecret: String,
        /// The id of the mock's WeCom app.
        #[arg(long, default_value_t = 1000002)]
        agentid: i64,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit chain from its first entry. Prints the number of entries and the
    /// last hash (exit 0), or the first entry that does not match (exit 1).
    Verify,
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn")
    });
    let fmt = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        fmt.json().init();
    } else {
        fmt.init();
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("fingertip: cannot read .env: {e}");
        return std::process::ExitCode::from(2);
    }
    if let Some(Command::MockWechat {
        bind,
        appid,
        secret,
        corpid,
        corpsecret,
        agentid,
    }) = &cli.command
    {
        init_logs(false);
        let mock = fingertip_wechat::mock::MockWechat::new(appid, secret);
        mock.add_wecom_agent(corpid, *agentid, corpsecret);
        return match run_mock(*bind, mock, *agentid).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fingertip: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Bench {
        members,
        database_url,
        batch,
        pushes,
        push_rate,
        skip_fanout,
    }) = &cli.command
    {
        return match fingertip::bench::run(fingertip::bench::BenchOptions {
            members: *members,
            database_url: database_url.clone(),
            batch: *batch,
            pushes: *pushes,
            push_rate: *push_rate,
            skip_fanout: *skip_fanout,
        })
        .await
        {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("fingertip bench: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let (settings, process) = match fingertip::settings::read(|k| std::env::var(k).ok()) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("fingertip: configuration error: {e}");
            }
            return std::process::ExitCode::from(2);
        }
    };
    init_logs(process.log_json);
    match run(cli.command, settings, process).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("fingertip: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(
    command: Option<Command>,
    settings: Settings,
    process: ProcessSettings,
) -> anyhow::Result<()> {
    if settings.auth.jwt_secret_generated {
        tracing::warn!(
            "FINGERTIP_JWT_SECRET is unset: using a random secret, so tokens will not survive a restart"
        );
    }
    if settings.wechat.is_none() {
        tracing::info!(
            "no WeChat credentials: WeChat login answers 503 and pushes are off (inbox only)"
        );
    }
    let app = App::connect(
        settings,
        AppOptions {
            process,
            ..AppOptions::default()
        },
    )
    .await?;
    match command {
        Some(Command::Migrate) => {
            app.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Serve) => {
            app.require_migrated().await?;
            app.bootstrap_admin().await?;
            let listener = app.listen()?;
            app.serve(listener, fingertip::shutdown::on_signal()).await
        }
        Some(Command::Work) => {
            app.require_migrated().await?;
            let stop = fingertip::shutdown::on_signal();
            app.serve_metrics(stop.clone())?;
            app.work(stop).await
        }
        Some(Command::Audit {
            command: AuditCommand::Verify,
        }) => {
            app.require_migrated().await?;
            let v = fingertip_core::audit::verify(&app.core.db).await?;
            match &v.first_mismatch {
                None => {
                    println!(
                        "ok: {} entries; last entry {} has hash {}",
                        v.entries, v.last_seq, v.last_hash
                    );
                    Ok(())
                }
                Some(m) => {
                    println!(
                        "MISMATCH at entry {}{}: {}\nentries 1 to {} hold (last good hash {})",
                        m.seq,
                        m.id.map(|i| format!(" (row id {i})")).unwrap_or_default(),
                        m.reason,
                        v.last_seq,
                        v.last_hash
                    );
                    anyhow::bail!("the audit chain does not verify")
                }
            }
        }
        None => {
            app.migrate().await?;
            app.bootstrap_admin().await?;
            let listener = app.listen()?;
            let stop = fingertip::shutdown::on_signal();
            let (a, w) = tokio::join!(app.serve(listener, stop.clone()), app.work(stop.clone()));
            a.and(w)
        }
        // `main` runs the mock before reading settings; reaching here is a wiring mistake, not a panic.
        Some(Command::MockWechat { .. } | Command::Bench { .. }) => {
            anyhow::bail!("mock-wechat and bench are started before settings are read")
        }
    }
}

async fn run_mock(
    bind: std::net::SocketAddr,
    mock: fingertip_wechat::mock::MockWechat,
    agentid: i64,
) -> anyhow::Result<()> {
    let server = mock.start(bind).await?;
    let base = server.base_url();
    tracing::info!(addr = %server.addr(), "WeChat and WeCom mock listening; point FINGERTIP_WECHAT_API_BASE at {base}");
    println!(
        "WeChat/WeCom mock at {base} (both hosts' paths on one server). Control routes, e.g.:\n\
         \x20 curl -s -XPOST {base}/mock/templates -d '{{\"template_id\":\"tpl-lesson\",\"keywords\":[\"thing1\",\"time2\"]}}'\n\
         \x20 curl -s -XPOST {base}/mock/grants -d '{{\"openid\":\"o-1\",\"template_id\":\"tpl-lesson\",\"count\":3}}'\n\
         \x20 curl -s -XPOST {base}/mock/codes -d '{{\"openid\":\"o-1\"}}'        # a wx.login code\n\
         \x20 curl -s -XPOST {base}/mock/wecom/users -d '{{\"agentid\":{agentid},\"userids\":[\"zhangsan\"]}}'\n\
         \x20 curl -s -XPOST {base}/mock/faults -d '{{\"path\":\"/cgi-bin/message/subscribe/send\",\"errcode\":-1,\"count\":2}}'\n\
         \x20 curl -s -XPOST {base}/mock/latency -d '{{\"ms\":50}}'\n\
         \x20 curl -s -XPOST {base}/mock/tokens/expire      # or /mock/tokens/invalidate\n\
         \x20 curl -s {base}/mock/stats; curl -s {base}/mock/sent\n\
         All routes: the fingertip_wechat::mock module docs."
    );
    fingertip::shutdown::on_signal().cancelled().await;
    server.shutdown().await;
    Ok(())
}
