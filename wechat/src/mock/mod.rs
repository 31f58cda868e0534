//! An in-process mock of `api.weixin.qq.com` (hyper 1, HTTP/1.1), for tests and local runs.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fingertip_wechat::mock::MockWechat;
//! let server = MockWechat::new("wx-appid", "secret").start(([127, 0, 0, 1], 0).into()).await?;
//! let code = server.state().issue_code("openid-1");
//! // point a WechatClient at server.base_url() and log in with `code` ...
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Routes: `GET /sns/jscode2session`; control routes for curl users:
//! `POST /mock/codes {"openid","blocked"?,"unionid"?}` → `{"code"}`,
//! `POST /mock/faults {"path","errcode","count"?}` → `{"ok":true}`,
//! `POST /mock/advance {"secs"}` → `{"ok":true}`, `GET /mock/calls` → `{"<path>": n}`.
//! Anything else: HTTP 404 `{"errcode":-1,"errmsg":"mock: no such path"}`.

mod routes;
mod state;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use state::{CODE_TTL, DEFAULT_MINUTE_LIMIT, MockWechat};

/// How long shutdown waits for open connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A running mock. Stops when dropped or on [`MockServer::shutdown`]: no new connections,
/// open ones finish their current request, then close.
pub struct MockServer {
    addr: SocketAddr,
    state: MockWechat,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl MockWechat {
    /// Binds `bind` (port 0 picks a free port) and serves this state until the returned
    /// server is dropped or shut down. Must be called inside a tokio runtime.
    pub async fn start(&self, bind: SocketAddr) -> io::Result<MockServer> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, self.clone(), stop_rx));
        tracing::debug!(%addr, "wechat mock listening");
        Ok(MockServer {
            addr,
            state: self.clone(),
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl MockServer {
    /// The bound address (with the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (loopback when bound to an unspecified address): use it as
    /// `WechatConfig::api_base`.
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// A handle to the served state, for the test knobs.
    pub fn state(&self) -> MockWechat {
        self.state.clone()
    }

    /// Stops accepting connections and waits (at most 2 s) for open ones to close.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Wakes the accept loop and every open connection.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}

async fn accept_loop(listener: TcpListener, mock: MockWechat, mut stop: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            // Reap finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_connection(stream, mock.clone(), stop.clone()));
                }
                Err(e) => {
                    // E.g. too many open files: back off instead of spinning.
                    tracing::warn!(error = %e, "wechat mock accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    // Connections were told to finish; give them a moment, then abort the rest (on drop).
    let drain = async { while conns.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
}

async fn serve_connection(stream: TcpStream, mock: MockWechat, mut stop: watch::Receiver<bool>) {
    let service = service_fn(move |req| routes::handle(mock.clone(), req));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "wechat mock connection ended with an error");
    }
}
