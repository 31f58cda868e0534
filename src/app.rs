//! Building the core from settings, and running the API and the workers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fingertip_core::Core;
use fingertip_core::auth::password;
use fingertip_core::auth::service::ensure_admin;
use fingertip_core::auth::tokens::TokenKeys;
use fingertip_core::clock::{Clock, SystemClock};
use fingertip_core::db::{self, DbOptions};
use fingertip_core::ports::memory_pubsub::MemoryPubSub;
use fingertip_core::ports::memory_queue::MemoryQueue;
use fingertip_core::ports::memory_rate_limit::MemoryRateLimiter;
use fingertip_core::ports::memory_throttle::MemoryThrottle;
use fingertip_core::ports::redis_pubsub::RedisPubSub;
use fingertip_core::ports::redis_queue::RedisQueue;
use fingertip_core::ports::redis_rate_limit::RedisRateLimiter;
use fingertip_core::ports::redis_throttle::RedisThrottle;
use fingertip_core::ports::redis_token_store::RedisTokenStore;
use fingertip_core::ports::{JobQueue, PubSub};
use fingertip_core::ports::{RateLimiter, Throttle};
use fingertip_core::settings::{Settings, redact_url};
use fingertip_platform::{TokenStore, UnixClock};
use fingertip_wechat::MemoryTokenStore;
use fingertip_workers::{FanoutWorker, PushWorker};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::settings::ProcessSettings;

/// What differs between a production start and a test.
pub struct AppOptions {
    pub clock: Arc<dyn Clock>,
    pub db: DbOptions,
    /// Names this process's workers and its Redis consumer.
    pub instance: String,
    /// Where to listen and how (tests bind port 0 and use the defaults).
    pub process: ProcessSettings,
}

impl Default for AppOptions {
    fn default() -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        Self {
            clock: Arc::new(SystemClock),
            db: DbOptions::default(),
            instance: format!("{host}-{}-{}", std::process::id(), &uuid_suffix()),
            process: ProcessSettings::default(),
        }
    }
}

fn uuid_suffix() -> String {
    fingertip_core::auth::secrets::random_token(6)
}

pub struct App {
    pub core: Arc<Core>,
    pub instance: String,
    pub process: ProcessSettings,
    /// How the pool was opened (the migration opens its own connection alike).
    db_opts: DbOptions,
}

impl App {
    /// Connects to the database and the queue. Does not touch the schema.
    pub async fn connect(settings: Settings, opts: AppOptions) -> anyhow::Result<Self> {
        let db_opts = DbOptions {
            acquire_timeout: opts
                .db
                .acquire_timeout
                .or(Some(settings.database.acquire_timeout)),
            statement_timeout: opts
                .db
                .statement_timeout
                .or(settings.database.statement_timeout),
            ..opts.db.clone()
        };
        let db = db::connect(&settings.database.url, &db_opts)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database {}",
                    redact_url(&settings.database.url)
                )
            })?;
        let prefix = &settings.redis.prefix;
        let queue: Arc<dyn JobQueue> = match &settings.redis.url {
            Some(url) => Arc::new(
                RedisQueue::connect(url, prefix, &opts.instance)
                    .await
                    .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?,
            ),
            None => Arc::new(MemoryQueue::new()),
        };
        // In-process pub/sub reaches the API and workers of this process only: right for the
        // embedded shape, where they share this Core.
        let pubsub: Arc<dyn PubSub> = match &settings.redis.url {
            Some(url) => Arc::new(
                RedisPubSub::connect(url, prefix)
                    .await
                    .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?,
            ),
            None => Arc::new(MemoryPubSub::new()),
        };
        // Platform access tokens and the push rate limit are shared by every process through
        // Redis when there is one, and kept in this process otherwise.
        let redis_conn = match &settings.redis.url {
            Some(url) => Some(
                redis::Client::open(url.as_str())?
                    .get_connection_manager()
                    .await
                    .with_context(|| format!("cannot reach Redis at {}", redact_url(url)))?,
            ),
            None => None,
        };
        let clock = opts.clock.clone();
        let unix_now: UnixClock = Arc::new(move || clock.now().timestamp());
        let token_store: Arc<dyn TokenStore> = match &redis_conn {
            Some(c) => Arc::new(RedisTokenStore::new(c.clone(), prefix, unix_now.clone())),
            None => Arc::new(MemoryTokenStore::new()),
        };
        let rate_limiter: Arc<dyn RateLimiter> = match &redis_conn {
            Some(c) => Arc::new(RedisRateLimiter::new(c.clone(), prefix)),
            None => Arc::new(MemoryRateLimiter::new()),
        };
        let throttle: Arc<dyn Throttle> = match &redis_conn {
            Some(c) => Arc::new(RedisThrottle::new(c.clone(), prefix)),
            None => Arc::new(MemoryThrottle::new()),
        };
        let platform = crate::platform::wire(&settings, token_store, unix_now);
        let tokens = TokenKeys::new(settings.auth.jwt_secret.expose_secret())?;
        // The process's metrics recorder, before anything counts (once per process).
        fingertip_api::telemetry::recorder();
        // The database's health, and the probe that keeps it (until the core is dropped).
        let db_health = Arc::new(db::DbHealth::new());
        db::health::spawn_probe(&settings.database.url, &db_health)
            .await
            .context("cannot set up the database probe")?;
        let core = Core {
            db,
            clock: opts.clock,
            queue,
            pubsub,
            tokens,
            login: platform.login,
            wecom_sign_in: platform.wecom_sign_in,
            push: platform.push,
            rate_limiter,
            throttle,
            passwords: Arc::new(password::Passwords::default()),
            db_health,
            sessions: Arc::default(),
            headers: Arc::default(),
            pages: Arc::default(),
            settings,
        };
        Ok(Self {
            core: Arc::new(core),
            instance: opts.instance,
            process: opts.process,
            db_opts,
        })
    }

    /// Applies the pending migrations, on a connection of its own without the statement
    /// timeout (building an index on a large table may take longer than any request should).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let opts = DbOptions {
            max_connections: Some(1),
            acquire_timeout: Some(Duration::from_secs(30)),
            statement_timeout: None,
            ..self.db_opts.clone()
        };
        let url = &self.core.settings.database.url;
        if url.starts_with("sqlite:") {
            // SQLite has no statement timeout, and a second pool on `sqlite::memory:` would be
            // another database.
            return db::migrate(&self.core.db)
                .await
                .context("applying migrations failed");
        }
        let db = db::connect(url, &opts)
            .await
            .with_context(|| format!("cannot open the database {}", redact_url(url)))?;
        let applied = db::migrate(&db).await.context("applying migrations failed");
        db.close().await.ok();
        applied
    }

    /// Refuses to go on while migrations are pending.
    pub async fn require_migrated(&self) -> anyhow::Result<()> {
        let pending = db::pending_migrations(&self.core.db)
            .await
            .context("reading the migration state failed")?;
        if !pending.is_empty() {
            anyhow::bail!(
                "the database schema is not up to date ({} pending: {}); run `fingertip migrate` first",
                pending.len(),
                pending.join(", ")
            );
        }
        Ok(())
    }

    /// Creates or resets the admin named in the settings.
    pub async fn bootstrap_admin(&self) -> anyhow::Result<()> {
        if let Some((u, p)) = &self.core.settings.auth.admin {
            ensure_admin(&self.core, u, p.expose_secret()).await?;
        }
        Ok(())
    }

    pub fn listen(&self) -> anyhow::Result<TcpListener> {
        let bind = self.process.bind;
        TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))
    }

    /// Fan-out worker number `n` of this process, with the lease and batch from the settings.
    /// A push worker, when a push platform is configured.
    pub fn push_worker(&self, n: usize) -> Option<PushWorker> {
        PushWorker::new(
            self.core.clone(),
            format!("{}-push-{n}", self.instance),
            self.core.settings.push.send.clone(),
        )
    }

    pub fn fanout_worker(&self, n: usize) -> FanoutWorker {
        FanoutWorker::new(self.core.clone(), format!("{}-fanout-{n}", self.instance))
            .with_config(self.core.settings.fanout)
    }

    /// Serves HTTP on `listener` until `stop`, then drains requests in flight.
    pub async fn serve(
        &self,
        listener: TcpListener,
        stop: CancellationToken,
    ) -> anyhow::Result<()> {
        let addr = listener.local_addr()?;
        let server = fingertip_api::build(
            self.core.clone(),
            listener,
            fingertip_api::ServerOptions {
                shutdown: Some(stop.clone()),
                trust_forwarded_for: self.process.trust_forwarded_for,
                ..Default::default()
            },
        )?;
        let handle = server.handle();
        tracing::info!(%addr, "API listening");
        let running = tokio::spawn(server);
        stop.cancelled().await;
        handle.stop(true).await;
        let _ = running.await;
        Ok(())
    }

    /// Serves `/metrics` and `/healthz` on `FINGERTIP_METRICS_BIND` until `stop` (for `work`,
    /// which has no API listener), when it is set.
    pub fn serve_metrics(&self, stop: CancellationToken) -> anyhow::Result<()> {
        let Some(bind) = self.process.metrics_bind else {
            return Ok(());
        };
        let listener =
            TcpListener::bind(bind).with_context(|| format!("cannot listen on {bind}"))?;
        let server = fingertip_api::telemetry::serve_metrics(self.core.clone(), listener)?;
        let handle = server.handle();
        tracing::info!(addr = %bind, "metrics listening");
        tokio::spawn(server);
        tokio::spawn(async move {
            stop.cancelled().await;
            handle.stop(true).await;
        });
        Ok(())
    }

    /// Runs the workers until `stop`; waits a bounded time for them to finish their batch.
    pub async fn work(&self, stop: CancellationToken) -> anyhow::Result<()> {
        let worker = self.fanout_worker(0);
        let mut tasks = vec![tokio::spawn(worker.run(stop.clone()))];
        if let Some(p) = self.push_worker(0) {
            tasks.push(tokio::spawn(p.run(stop.clone())));
        } else {
            tracing::info!("no push platform configured: no push worker");
        }
        stop.cancelled().await;
        if tokio::time::timeout(
            Duration::from_secs(15),
            futures_util::future::join_all(tasks),
        )
        .await
        .is_err()
        {
            tracing::warn!(
                "workers did not stop within 15 s; their leases will expire and be taken over"
            );
        }
        Ok(())
    }
}
