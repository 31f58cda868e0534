//! The Redis pub/sub of the distributed shape: `PUBLISH` on one channel, `{prefix}:events`, and
//! one dedicated subscriber connection per subscription that re-subscribes by itself, with
//! backoff, when Redis restarts or the connection dies (a periodic `PING` finds a half-open
//! one). After a reconnect the subscriber yields a [`Received::Gap`]: what was published
//! meanwhile is lost, and the database still has it.
//!
//! Publishing never holds up its caller for long: it times out after
//! [`RedisPubSubConfig::publish_timeout`], and after a failure it is skipped for
//! [`RedisPubSubConfig::pause_after_failure`], so that a Redis outage does not slow a fan-out
//! down batch by batch.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use tokio::sync::mpsc;

use super::pubsub::{Event, PubSub, Received, Subscription};
use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy)]
pub struct RedisPubSubConfig {
    /// Longest a `PUBLISH` may take before it counts as failed.
    pub publish_timeout: Duration,
    /// How long publishing is skipped after a failure.
    pub pause_after_failure: Duration,
    /// How often an idle subscriber connection is checked with `PING`.
    pub ping_interval: Duration,
    /// First and longest wait between two attempts to re-subscribe.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Events buffered for a subscriber that is busy; beyond that it gets a gap.
    pub buffer: usize,
}

impl Default for RedisPubSubConfig {
    fn default() -> Self {
        Self {
            publish_timeout: Duration::from_secs(1),
            pause_after_failure: Duration::from_secs(5),
            ping_interval: Duration::from_secs(15),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            buffer: 1024,
        }
    }
}

pub struct RedisPubSub {
    client: redis::Client,
    conn: ConnectionManager,
    channel: String,
    cfg: RedisPubSubConfig,
    paused_until: Mutex<Option<Instant>>,
}

fn perr(e: impl std::fmt::Display) -> CoreError {
    CoreError::Queue(format!("pub/sub: {e}"))
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl RedisPubSub {
    pub async fn connect(url: &str, prefix: &str) -> CoreResult<Self> {
        Self::connect_with(url, prefix, RedisPubSubConfig::default()).await
    }

    pub async fn connect_with(url: &str, prefix: &str, cfg: RedisPubSubConfig) -> CoreResult<Self> {
        let client = redis::Client::open(url).map_err(perr)?;
        let mcfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(cfg.publish_timeout));
        let conn = client
            .get_connection_manager_with_config(mcfg)
            .await
            .map_err(perr)?;
        Ok(Self {
            client,
            conn,
            channel: format!("{prefix}:events"),
            cfg,
            paused_until: Mutex::new(None),
        })
    }

    pub fn channel(&self) -> &str {
        &self.channel
    }

    fn paused(&self) -> bool {
        let mut p = self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match *p {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                *p = None;
                false
            }
            None => false,
        }
    }

    fn pause(&self) {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(Instant::now() + self.cfg.pause_after_failure);
    }
}

/// Opens a dedicated connection and subscribes it to `channel`.
async fn open(client: &redis::Client, channel: &str) -> CoreResult<(PubSubSink, PubSubStream)> {
    let fut = async {
        let mut ps = client.get_async_pubsub().await?;
        ps.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(ps.split())
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, fut).await {
        Ok(r) => r.map_err(perr),
        Err(_) => Err(perr("subscribing timed out")),
    }
}

/// Hands events to the subscriber without ever waiting for it: when its buffer is full the
/// event is dropped and the subscriber gets a gap as soon as there is room again.
struct Forwarder {
    tx: mpsc::Sender<Received>,
    lagging: bool,
}

impl Forwarder {
    /// False once the subscriber is gone.
    fn send(&mut self, r: Received) -> bool {
        use mpsc::error::TrySendError;
        if self.lagging {
            match self.tx.try_send(Received::Gap) {
                Ok(()) => self.lagging = false,
                Err(TrySendError::Full(_)) => return true,
                Err(TrySendError::Closed(_)) => return false,
            }
        }
        match self.tx.try_send(r) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                tracing::warn!("a pub/sub subscriber fell behind; dropping events");
                self.lagging = true;
                true
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }
}

/// Why a subscribed connection stopped.
enum End {
    /// The subscription was dropped: stop for good.
    Unsubscribed,
    /// The connection failed: reconnect.
    Lost(String),
}

async fn pump(
    sink: &mut PubSubSink,
    stream: &mut PubSubStream,
    fwd: &mut Forwarder,
    cfg: &RedisPubSubConfig,
) -> End {
    let mut tick = tokio::time::interval(cfg.ping_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            () = fwd.tx.closed() => return End::Unsubscribed,
            msg = stream.next() => match msg {
                None => return End::Lost("the connection closed".into()),
                Some(msg) => match serde_json::from_slice::<Event>(msg.get_payload_bytes()) {
                    Ok(e) => {
                        if !fwd.send(Received::Event(e)) {
                            return End::Unsubscribed;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "ignoring an unreadable pub/sub event"),
                },
            },
            _ = tick.tick() => {
                match tokio::time::timeout(CONNECT_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return End::Lost(e.to_string()),
                    Err(_) => return End::Lost("PING timed out".into()),
                }
            }
        }
    }
}

/// A subscription that lived this long counts as healthy again.
const HEALTHY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

async fn subscriber(
    client: redis::Client,
    channel: String,
    cfg: RedisPubSubConfig,
    mut conn: Option<(PubSubSink, PubSubStream)>,
    mut fwd: Forwarder,
) {
    let mut backoff = cfg.backoff_min;
    loop {
        if let Some((mut sink, mut stream)) = conn.take() {
            let since = std::time::Instant::now();
            let end = pump(&mut sink, &mut stream, &mut fwd, &cfg).await;
            // Only a connection that held for a while resets the backoff: one that a proxy or
            // Redis keeps cutting right after subscribing must not reconnect at the minimum pace.
            backoff = if since.elapsed() >= HEALTHY_AFTER {
                cfg.backoff_min
            } else {
                (backoff * 2).min(cfg.backoff_max)
            };
            match end {
                End::Unsubscribed => return,
                End::Lost(why) => tracing::warn!(
                    channel = %channel,
                    error = %why,
                    "lost the Redis subscription; reconnecting"
                ),
            }
        }
        tokio::select! {
            () = fwd.tx.closed() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        match open(&client, &channel).await {
            Ok(c) => {
                tracing::info!(channel = %channel, "Redis subscription re-established");
                // Whatever was published while we were away is lost.
                if !fwd.send(Received::Gap) {
                    return;
                }
                conn = Some(c);
            }
            Err(e) => {
                backoff = (backoff * 2).min(cfg.backoff_max);
                tracing::warn!(
                    channel = %channel,
                    error = %e,
                    retry_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                    "cannot subscribe to Redis; retrying"
                );
            }
        }
    }
}

#[async_trait::async_trait]
impl PubSub for RedisPubSub {
    async fn publish(&self, event: &Event) -> CoreResult<()> {
        if self.paused() {
            return Err(perr("skipped: Redis failed a moment ago"));
        }
        let payload = serde_json::to_string(event).map_err(perr)?;
        let mut c = self.conn.clone();
        let r = tokio::time::timeout(
            self.cfg.publish_timeout,
            c.publish::<_, _, i64>(&self.channel, payload),
        )
        .await;
        match r {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                self.pause();
                Err(perr(e))
            }
            Err(_) => {
                self.pause();
                Err(perr("PUBLISH timed out"))
            }
        }
    }

    /// Subscribes at once when Redis answers (so that events published after this returns
    /// are seen); otherwise returns anyway and keeps trying in the background.
    async fn subscribe(&self) -> CoreResult<Subscription> {
        let (tx, rx) = mpsc::channel(self.cfg.buffer.max(1));
        let first = match open(&self.client, &self.channel).await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(channel = %self.channel, error = %e, "cannot subscribe to Redis yet; retrying in the background");
                None
            }
        };
        tokio::spawn(subscriber(
            self.client.clone(),
            self.channel.clone(),
            self.cfg,
            first,
            Forwarder { tx, lagging: false },
        ));
        Ok(Subscription::new(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|r| (r, rx))
        })))
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

#[cfg(test)]
mod tests {
    //! Need a Redis: they run when FINGERTIP_TEST_REDIS_URL is set and pass trivially otherwise.

    use std::sync::Arc;

    use tokio::net::{TcpListener, TcpStream};
    use tokio_util::sync::CancellationToken;

    use super::*;

    fn redis_url() -> Option<String> {
        std::env::var("FINGERTIP_TEST_REDIS_URL")
            .ok()
            .filter(|v| !v.is_empty())
    }

    fn prefix() -> String {
        format!("test-ps-{}", uuid::Uuid::new_v4().simple())
    }

    fn fast() -> RedisPubSubConfig {
        RedisPubSubConfig {
            ping_interval: Duration::from_millis(200),
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..Default::default()
        }
    }

    fn ev(m: i64) -> Event {
        Event::UnreadChanged {
            member_id: m,
            unread_count: u64::try_from(m).unwrap(),
        }
    }

    async fn next(s: &mut Subscription) -> Option<Received> {
        tokio::time::timeout(Duration::from_secs(5), s.recv())
            .await
            .expect("an event within 5 s")
    }

    /// A TCP proxy in front of Redis whose connections can be cut, as a Redis restart would.
    struct Proxy {
        url: String,
        cut: Arc<std::sync::Mutex<CancellationToken>>,
        down: CancellationToken,
    }

    impl Proxy {
        async fn start(target: String) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("redis://{}", listener.local_addr().unwrap());
            let cut = Arc::new(std::sync::Mutex::new(CancellationToken::new()));
            let c = cut.clone();
            let down = CancellationToken::new();
            let d = down.clone();
            tokio::spawn(async move {
                loop {
                    let accepted = tokio::select! {
                        () = d.cancelled() => return,
                        a = listener.accept() => a,
                    };
                    let Ok((mut inbound, _)) = accepted else {
                        return;
                    };
                    let token = c.lock().unwrap().clone();
                    let target = target.clone();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(target).await else {
                            return;
                        };
                        tokio::select! {
                            () = token.cancelled() => {}
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        }
                    });
                }
            });
            Self { url, cut, down }
        }

        /// Redis is gone: open connections are cut and new ones refused.
        fn stop(&self) {
            self.down.cancel();
            self.cut();
        }

        /// Drops every open connection; new ones go through.
        fn cut(&self) {
            let mut t = self.cut.lock().unwrap();
            t.cancel();
            *t = CancellationToken::new();
        }
    }

    fn host_port(url: &str) -> String {
        use redis::IntoConnectionInfo;
        match url.into_connection_info().unwrap().addr() {
            redis::ConnectionAddr::Tcp(h, p) => format!("{h}:{p}"),
            other => panic!("the test Redis must be plain TCP, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn events_cross_connections_on_the_prefixed_channel() {
        let Some(url) = redis_url() else { return };
        let p = prefix();
        let publisher = RedisPubSub::connect_with(&url, &p, fast()).await.unwrap();
        assert_eq!(publisher.channel(), format!("{p}:events"));
        let subscriber = RedisPubSub::connect_with(&url, &p, fast()).await.unwrap();
        let other = RedisPubSub::connect_with(&url, &prefix(), fast())
            .await
            .unwrap();
        let mut s = subscriber.subscribe().await.unwrap();
        let mut o = other.subscribe().await.unwrap();
        publisher.publish(&ev(1)).await.unwrap();
        publisher.publish(&ev(2)).await.unwrap();
        assert_eq!(next(&mut s).await, Some(Received::Event(ev(1))));
        assert_eq!(next(&mut s).await, Some(Received::Event(ev(2))));
        assert!(
            tokio::time::timeout(Duration::from_millis(200), o.recv())
                .await
                .is_err(),
            "another prefix hears nothing"
        );
    }

    #[tokio::test]
    async fn a_subscription_survives_a_dropped_connection() {
        let Some(url) = redis_url() else { return };
        let p = prefix();
        let proxy = Proxy::start(host_port(&url)).await;
        let publisher = RedisPubSub::connect_with(&url, &p, fast()).await.unwrap();
        let via_proxy = RedisPubSub::connect_with(&proxy.url, &p, fast())
            .await
            .unwrap();
        let mut s = via_proxy.subscribe().await.unwrap();
        publisher.publish(&ev(1)).await.unwrap();
        assert_eq!(next(&mut s).await, Some(Received::Event(ev(1))));

        proxy.cut();
        assert_eq!(
            next(&mut s).await,
            Some(Received::Gap),
            "the subscriber reconnects and reports the gap"
        );
        publisher.publish(&ev(2)).await.unwrap();
        assert_eq!(next(&mut s).await, Some(Received::Event(ev(2))));
    }

    #[tokio::test]
    async fn publishing_while_redis_is_down_fails_fast_and_is_then_skipped() {
        let Some(url) = redis_url() else { return };
        let proxy = Proxy::start(host_port(&url)).await;
        let cfg = RedisPubSubConfig {
            publish_timeout: Duration::from_millis(300),
            pause_after_failure: Duration::from_secs(60),
            ..fast()
        };
        let ps = RedisPubSub::connect_with(&proxy.url, &prefix(), cfg)
            .await
            .unwrap();
        ps.publish(&ev(1)).await.unwrap();
        proxy.stop();
        let started = Instant::now();
        let mut failed = 0;
        for m in 2..10 {
            if ps.publish(&ev(m)).await.is_err() {
                failed += 1;
            }
        }
        assert!(failed >= 7, "Redis is down: {failed} of 8 failed");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "a Redis outage never holds a publisher up for long ({:?})",
            started.elapsed()
        );
    }
}
