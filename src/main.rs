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
    /// Print the OpenAPI document the API serves at /api/openapi.json (needs no database or
    /// settings): what the mini-program client's types are generated from.
    Openapi,
    /// The audit log: `fingertip audit verify` recomputes the hash chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
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
    if matches!(cli.command, Some(Command::Openapi)) {
        println!("{}", fingertip_api::openapi::document_json());
        return std::process::ExitCode::SUCCESS;
    }
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("fingertip: cannot read .env: {e}");
        return std::process::ExitCode::from(2);
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
        // Answered in `main` before the settings are read; here for completeness.
        Some(Command::Openapi) => {
            println!("{}", fingertip_api::openapi::document_json());
            Ok(())
        }
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
    }
}
