//! The app under test: `spawn_app()` (a real server on port 0 with a fresh database), its
//! workers, peers and clock. Raw HTTP calls are in `http`, logins in `login`; typed bodies
//! and the calls that create things in `crate::requests`; the organisation in
//! `crate::fixtures`.

mod http;
mod login;

pub use http::Resp;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use fingertip::{App, AppOptions};
use fingertip_api::LiveOptions;
use fingertip_core::Core;
use fingertip_core::clock::ManualClock;
use fingertip_core::db::DbOptions;
use fingertip_core::settings::Settings;
use fingertip_wechat_mock::{MockServer, MockWechat};
use fingertip_workers::{FanoutWorker, PushWorker};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";
pub const APPID: &str = "wx-test-app";
pub const APP_SECRET: &str = "test-app-secret";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub core: Arc<Core>,
    pub clock: Arc<ManualClock>,
    pub mock: MockWechat,
    pub worker: FanoutWorker,
    /// The push worker (when WeChat or WeCom is configured); `drain()` runs it too.
    pub pusher: Option<PushWorker>,
    /// What built this app, so that a peer server can be built the same way.
    pub settings: Settings,
    db_opts: DbOptions,
    tag: String,
    admin_cache: tokio::sync::Mutex<Option<(String, chrono::DateTime<Utc>)>>,
    live: LiveOptions,
    app: App,
    _mock_server: Option<MockServer>,
    sqlite_file: Option<PathBuf>,
    server: actix_web::dev::ServerHandle,
}

#[derive(Default)]
pub struct SpawnOptions {
    pub wechat: bool,
    /// WebSocket timings; the server's defaults when `None`.
    pub live: Option<LiveOptions>,
    /// Extra settings (`FINGERTIP_*` variables), applied last.
    pub env: Vec<(&'static str, String)>,
    /// Configure WeCom too (against the same mock, which serves both hosts' paths).
    pub wecom: bool,
}

pub const WECOM_CORPID: &str = "ww-test-corp";
pub const WECOM_SECRET: &str = "wecom-test-secret";
pub const WECOM_AGENTID: i64 = 1000002;

pub async fn spawn_app() -> TestApp {
    spawn_with(SpawnOptions {
        wechat: true,
        ..Default::default()
    })
    .await
}

pub async fn spawn_with(opts: SpawnOptions) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mock = MockWechat::new(APPID, APP_SECRET);
    let mock_server = if opts.wechat {
        Some(
            mock.start("127.0.0.1:0".parse().unwrap())
                .await
                .expect("mock starts"),
        )
    } else {
        None
    };

    let mut vars: HashMap<&str, String> = HashMap::new();
    let mut db_opts = DbOptions::default();
    let mut sqlite_file = None;
    if let Some(url) = std::env::var("FINGERTIP_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        vars.insert("FINGERTIP_DATABASE_URL", url);
        db_opts.pg_schema = Some(format!("t_{tag}"));
        db_opts.max_connections = Some(5);
    } else {
        let path = std::env::temp_dir().join(format!("fingertip-test-{tag}.db"));
        vars.insert(
            "FINGERTIP_DATABASE_URL",
            format!("sqlite://{}?mode=rwc", path.display()),
        );
        sqlite_file = Some(path);
    }
    if let Some(redis) = std::env::var("FINGERTIP_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        vars.insert("FINGERTIP_REDIS_URL", redis);
        vars.insert("FINGERTIP_REDIS_PREFIX", format!("test-{tag}"));
    }
    vars.insert(
        "FINGERTIP_JWT_SECRET",
        "test-secret-test-secret-test-secret".into(),
    );
    // A shared CI machine runs many suites at once: a pool wait of a second is a real outage
    // in production but only a busy moment here (tests/api/outage.rs sets its own).
    vars.insert("FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS", "20000".into());
    vars.insert("FINGERTIP_ADMIN_USERNAME", ADMIN_USER.into());
    // The clock starts at the real time, so quiet hours (22:00-07:30 by default) would make a
    // push test's outcome depend on the hour the suite runs at: off unless a test sets them
    // (tests/api/push/quiet.rs does, with the clock set to the hours it needs).
    vars.insert("FINGERTIP_QUIET_HOURS", "off".into());
    vars.insert("FINGERTIP_ADMIN_PASSWORD", ADMIN_PASSWORD.into());
    if let Some(m) = &mock_server {
        vars.insert("FINGERTIP_WECHAT_APPID", APPID.into());
        vars.insert("FINGERTIP_WECHAT_SECRET", APP_SECRET.into());
        vars.insert("FINGERTIP_WECHAT_API_BASE", m.base_url());
        if opts.wecom {
            mock.add_wecom_agent(WECOM_CORPID, WECOM_AGENTID, WECOM_SECRET);
            vars.insert("FINGERTIP_WECOM_CORPID", WECOM_CORPID.into());
            vars.insert("FINGERTIP_WECOM_SECRET", WECOM_SECRET.into());
            vars.insert("FINGERTIP_WECOM_AGENTID", WECOM_AGENTID.to_string());
            vars.insert("FINGERTIP_WECOM_API_BASE", m.base_url());
            vars.insert("FINGERTIP_WECOM_OAUTH_BASE", m.base_url());
            vars.insert(
                "FINGERTIP_PUSH_LINK",
                "https://fingertip.example/b/{broadcast_id}".into(),
            );
        }
    }
    for (k, v) in &opts.env {
        vars.insert(k, v.clone());
    }
    let settings =
        Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid");

    let clock = Arc::new(ManualClock::new(Utc::now()));
    let app = App::connect(
        settings.clone(),
        AppOptions {
            clock: clock.clone(),
            db: db_opts.clone(),
            instance: format!("test-{tag}"),
            process: Default::default(),
        },
    )
    .await
    .expect("app connects");
    app.migrate().await.expect("migrations apply");
    app.bootstrap_admin().await.expect("admin is created");

    let live = opts.live.unwrap_or_default();
    let (base, handle) = start_server(app.core.clone(), live);

    TestApp {
        base,
        http: reqwest::Client::builder().build().unwrap(),
        core: app.core.clone(),
        clock,
        mock,
        worker: app.fanout_worker(0),
        pusher: app.push_worker(0),
        settings,
        db_opts,
        tag,
        admin_cache: Default::default(),
        live,
        app,
        _mock_server: mock_server,
        sqlite_file,
        server: handle,
    }
}

/// Serves the API for `core` on a free port; returns its base URL and handle.
fn start_server(core: Arc<Core>, live: LiveOptions) -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = fingertip_api::build(
        core,
        listener,
        fingertip_api::ServerOptions {
            workers: 1,
            shutdown_timeout_secs: 1,
            live,
            shutdown: None,
            trust_forwarded_for: false,
        },
    )
    .expect("server builds");
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}"), handle)
}

/// A second API server (with its own worker) on the same database.
pub struct Peer {
    pub base: String,
    pub worker: FanoutWorker,
    server: actix_web::dev::ServerHandle,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let h = self.server.clone();
        tokio::spawn(async move { h.stop(false).await });
    }
}

impl Peer {
    pub async fn drain(&self) {
        drain_worker(&self.worker, None).await;
    }

    pub fn ws_url(&self, token: &str) -> String {
        ws_url(&self.base, token)
    }
}

/// The live socket's URL with the token in the query.
pub fn ws_url(base: &str, token: &str) -> String {
    format!(
        "{}/api/v1/ws?access_token={token}",
        base.replacen("http://", "ws://", 1)
    )
}

async fn drain_worker(worker: &FanoutWorker, pusher: Option<&PushWorker>) {
    for _ in 0..50 {
        let fanned = worker.run_once().await.expect("worker pass");
        let pushed = match pusher {
            Some(p) => {
                let r = p.run_once().await.expect("push pass");
                r.claimed + r.unknown
            }
            None => 0,
        };
        if fanned == 0 && pushed == 0 {
            return;
        }
    }
    panic!("workers did not settle");
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let h = self.server.clone();
        tokio::spawn(async move { h.stop(false).await });
        if let Some(p) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
            }
        }
    }
}

impl TestApp {
    /// as `fingertip work` builds them.
    pub fn fanout_worker(&self, n: usize) -> FanoutWorker {
        self.app.fanout_worker(n)
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use fingertip_core::clock::Clock;
        self.clock.now()
    }

    /// A second push worker (another id), as a second `fingertip work` would run.
    pub fn second_push_worker(&self) -> PushWorker {
        self.app
            .push_worker(1)
            .expect("a push platform is configured")
    }

    /// Another worker on the same database and queue, as a second `fingertip work` would be.
    pub fn second_worker(&self) -> FanoutWorker {
        self.fanout_worker(1)
    }

    /// Runs the workers until they have nothing left to do.
    pub async fn drain(&self) {
        drain_worker(&self.worker, self.pusher.as_ref()).await;
    }

    pub fn ws_url(&self, token: &str) -> String {
        ws_url(&self.base, token)
    }

    /// Another API server on the same database and clock, as a second process of the
    /// distributed shape would be. With Redis (`FINGERTIP_TEST_REDIS_URL`) it is built from the
    /// same settings (its own pools, the same Redis prefix), so live updates cross through
    /// Redis; without Redis it shares this app's core, and so its in-process pub/sub.
    pub async fn spawn_peer(&self) -> Peer {
        let core = if self.settings.redis.url.is_some() {
            App::connect(
                self.settings.clone(),
                AppOptions {
                    clock: self.clock.clone(),
                    db: self.db_opts.clone(),
                    instance: format!("test-{}-peer", self.tag),
                    process: Default::default(),
                },
            )
            .await
            .expect("peer connects")
            .core
        } else {
            self.core.clone()
        };
        let (base, server) = start_server(core.clone(), self.live);
        Peer {
            base,
            worker: FanoutWorker::new(core, format!("test-{}-peer-fanout", self.tag)),
            server,
        }
    }
}
