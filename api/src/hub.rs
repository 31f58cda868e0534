//! The live inbox hub: one per API process. It knows which members have a WebSocket open on
//! this process (member id → connections), and one background task per process listens to the
//! pub/sub and turns each event into messages for those connections only.
//!
//! Each connection has a bounded queue. The hub never waits for a connection: when a queue is
//! full the connection is dropped (it reconnects and reads its inbox again), so one slow phone
//! cannot hold up everybody else's updates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use fingertip_core::Core;
use fingertip_core::inbox;
use fingertip_core::ports::{DeliveredItems, Event, Received};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::dto::live::LiveMessage;

/// Sockets authenticated at once by one process: under the smallest pool (SQLite's 8), so
/// that opening sockets never takes every connection from the requests and the live updates.
pub const OPENING_AT_ONCE: usize = 4;
/// How long an opening socket waits for its turn before it is told to come back (1013).
pub const OPENING_WAIT: Duration = Duration::from_secs(20);
/// Events the hub takes from the subscription at once when they have queued up while it was
/// busy: a large fan-out's batches arrive faster than they can be told one by one (two
/// statements each), and taken together their sockets' unread counts are read at once.
pub const EVENTS_AT_ONCE: usize = 64;

/// Live-update settings of one API process.
#[derive(Debug, Clone, Copy)]
pub struct LiveOptions {
    /// How often the server pings each socket.
    pub ping_interval: Duration,
    /// A socket that sent nothing (not even a pong) for this many ping intervals is dropped.
    pub missed_pings: u32,
    /// Messages queued for one socket before it counts as too slow and is dropped.
    pub send_buffer: usize,
    /// Open sockets one member may have on one process.
    pub max_per_member: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(30),
            missed_pings: 2,
            send_buffer: 64,
            max_per_member: 8,
        }
    }
}

impl LiveOptions {
    pub fn idle_timeout(&self) -> Duration {
        self.ping_interval * self.missed_pings.max(1)
    }
}

struct Conn {
    id: u64,
    tx: mpsc::Sender<String>,
    /// Cancelled when the hub drops the connection for being too slow.
    kill: CancellationToken,
}

/// One registered socket: its queue and the hub's way to drop it.
pub struct Registration {
    pub member_id: i64,
    pub id: u64,
    pub rx: mpsc::Receiver<String>,
    pub kill: CancellationToken,
}

#[derive(Debug, PartialEq, Eq)]
pub struct TooManyConnections;

/// Member id → open sockets on this process.
#[derive(Default)]
pub struct Registry {
    conns: Mutex<HashMap<i64, Vec<Conn>>>,
    next_id: AtomicU64,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Vec<Conn>>> {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn register(
        &self,
        member_id: i64,
        buffer: usize,
        max_per_member: usize,
    ) -> Result<Registration, TooManyConnections> {
        let mut conns = self.lock();
        let list = conns.entry(member_id).or_default();
        if list.len() >= max_per_member.max(1) {
            return Err(TooManyConnections);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let kill = CancellationToken::new();
        list.push(Conn {
            id,
            tx,
            kill: kill.clone(),
        });
        Ok(Registration {
            member_id,
            id,
            rx,
            kill,
        })
    }

    pub fn unregister(&self, member_id: i64, id: u64) {
        let mut conns = self.lock();
        if let Some(list) = conns.get_mut(&member_id) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                conns.remove(&member_id);
            }
        }
    }

    /// Open sockets here.
    pub fn sockets(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Members with at least one socket here.
    pub fn members(&self) -> Vec<i64> {
        self.lock().keys().copied().collect()
    }

    /// Those of `ids` that have a socket here.
    pub fn connected_among(&self, ids: &[i64]) -> Vec<i64> {
        self.connected(ids.iter().copied(), |m| *m)
    }

    /// Those of `of` whose member (`member_of`) has a socket here.
    pub fn connected<T>(
        &self,
        of: impl IntoIterator<Item = T>,
        member_of: impl Fn(&T) -> i64,
    ) -> Vec<T> {
        let conns = self.lock();
        if conns.is_empty() {
            return vec![];
        }
        of.into_iter()
            .filter(|t| conns.contains_key(&member_of(t)))
            .collect()
    }

    pub fn is_connected(&self, member_id: i64) -> bool {
        self.lock().contains_key(&member_id)
    }

    /// Open sockets on this process.
    pub fn len(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `text` for every socket of the member without waiting. A socket whose queue is
    /// full is dropped. Returns how many sockets got it.
    pub fn send(&self, member_id: i64, text: &str) -> usize {
        use mpsc::error::TrySendError;
        let mut conns = self.lock();
        let Some(list) = conns.get_mut(&member_id) else {
            return 0;
        };
        let mut sent = 0;
        list.retain(|c| match c.tx.try_send(text.to_string()) {
            Ok(()) => {
                sent += 1;
                true
            }
            Err(TrySendError::Full(_)) => {
                tracing::info!(
                    member.id = member_id,
                    conn.id = c.id,
                    "dropping a WebSocket that does not keep up"
                );
                c.kill.cancel();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        });
        if list.is_empty() {
            conns.remove(&member_id);
        }
        sent
    }
}

/// One fan-out batch to tell the sockets of (an [`Event::InboxDelivered`]).
struct Batch {
    broadcast_id: i64,
    occurrence: i64,
    member_ids: Vec<i64>,
    items: Option<DeliveredItems>,
}

pub struct Hub {
    core: Arc<Core>,
    pub registry: Registry,
    /// Sockets being opened at once (authentication and the first unread count, each a
    /// database statement): a crowd reconnecting after a restart queues here, in memory,
    /// instead of in the database pool, where it would time out.
    pub opening: tokio::sync::Semaphore,
    pub opts: LiveOptions,
    stop: CancellationToken,
    ready: watch::Receiver<bool>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Hub {
    /// Creates the hub and starts its subscriber task. The task ends when `shutdown` is
    /// cancelled or when the hub is dropped (the server stopped); `shutdown` also closes every
    /// socket with 1001.
    pub fn start(
        core: Arc<Core>,
        opts: LiveOptions,
        shutdown: Option<&CancellationToken>,
    ) -> Arc<Self> {
        let stop = shutdown
            .map(tokio_util::sync::CancellationToken::child_token)
            .unwrap_or_default();
        let (ready_tx, ready) = watch::channel(false);
        let hub = Arc::new(Self {
            core: core.clone(),
            registry: Registry::default(),
            opening: tokio::sync::Semaphore::new(OPENING_AT_ONCE),
            opts,
            stop: stop.clone(),
            ready,
        });
        tokio::spawn(subscriber(Arc::downgrade(&hub), core, stop, ready_tx));
        hub
    }

    /// Resolves when the server shuts down.
    pub async fn stopping(&self) {
        self.stop.cancelled().await;
    }

    /// Waits (a bounded time) until the subscriber task has subscribed, so that a socket
    /// that is open sees every event published from then on.
    pub async fn wait_ready(&self) {
        let mut r = self.ready.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), r.wait_for(|ok| *ok)).await;
    }

    /// Events in the order they came: the fan-out batches among them that follow each other
    /// are told together ([`Self::delivered`]), anything else in its turn.
    async fn dispatch_all(&self, events: Vec<Received>) {
        let mut batches = Vec::new();
        for r in events {
            match r {
                Received::Event(Event::InboxDelivered {
                    broadcast_id,
                    occurrence,
                    member_ids,
                    items,
                }) => batches.push(Batch {
                    broadcast_id,
                    occurrence,
                    member_ids,
                    items,
                }),
                other => {
                    self.tell(std::mem::take(&mut batches)).await;
                    self.dispatch(other).await;
                }
            }
        }
        self.tell(batches).await;
    }

    async fn tell(&self, batches: Vec<Batch>) {
        if batches.is_empty() {
            return;
        }
        if let Err(e) = self.delivered(batches).await {
            tracing::warn!(error = %e, "a live update could not be prepared; skipping it");
        }
    }

    async fn dispatch(&self, r: Received) {
        let result = match r {
            Received::Event(Event::InboxDelivered {
                broadcast_id,
                occurrence,
                member_ids,
                items,
            }) => {
                self.delivered(vec![Batch {
                    broadcast_id,
                    occurrence,
                    member_ids,
                    items,
                }])
                .await
            }
            Received::Event(Event::UnreadChanged {
                member_id,
                unread_count,
            }) => {
                if self.registry.is_connected(member_id) {
                    self.registry.send(
                        member_id,
                        &LiveMessage::UnreadCount { unread_count }.to_json(),
                    );
                }
                Ok(())
            }
            // Sessions whose access changed are checked against the database again.
            Received::Event(Event::SessionEnded { session_id }) => {
                self.core.sessions.forget_session(&session_id);
                Ok(())
            }
            Received::Event(Event::MembersChanged { member_ids }) => {
                self.core
                    .sessions
                    .forget_members(&member_ids.into_iter().collect());
                Ok(())
            }
            Received::Gap => {
                // An access change may have been missed.
                self.core.sessions.clear();
                self.resync().await
            }
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "a live update could not be prepared; skipping it");
        }
    }

    /// Tells the sockets here of fan-out batches: each connected member their new item and
    /// their unread count, read once for all the batches after they committed. The items come
    /// with the events (a release before them sent only the members: then they are read).
    async fn delivered(&self, batches: Vec<Batch>) -> fingertip_core::CoreResult<()> {
        let mut told = Vec::with_capacity(batches.len());
        for b in batches {
            let items = match &b.items {
                Some(items) if items.ids.len() == b.member_ids.len() => {
                    let pairs = b.member_ids.iter().copied().zip(items.ids.iter().copied());
                    let here = self.registry.connected(pairs, |&(m, _)| m);
                    if here.is_empty() {
                        continue;
                    }
                    inbox::told_items(&self.core, b.broadcast_id, items, &here).await
                }
                _ => {
                    let here = self.registry.connected_among(&b.member_ids);
                    if here.is_empty() {
                        continue;
                    }
                    inbox::delivered_items(&self.core, b.broadcast_id, b.occurrence, &here).await
                }
            };
            match items {
                Ok(items) => told.push(items),
                // The batches after it are still told.
                Err(e) => {
                    tracing::warn!(broadcast.id = b.broadcast_id, error = %e, "a live update could not be prepared; skipping it");
                }
            }
        }
        let mut members: Vec<i64> = told.iter().flatten().map(|(m, _)| *m).collect();
        if members.is_empty() {
            return Ok(());
        }
        members.sort_unstable();
        members.dedup();
        let counts = inbox::unread_counts(&self.core, &members).await?;
        for (member_id, item) in told.into_iter().flatten() {
            let msg = LiveMessage::InboxNew {
                item: item.into(),
                unread_count: counts.get(&member_id).copied().unwrap_or(0),
            };
            self.registry.send(member_id, &msg.to_json());
        }
        Ok(())
    }

    /// After possibly missed events: everyone connected here gets their unread count afresh.
    async fn resync(&self) -> fingertip_core::CoreResult<()> {
        let members = self.registry.members();
        if members.is_empty() {
            return Ok(());
        }
        tracing::info!(
            sockets = members.len(),
            "live updates may have been missed; resending unread counts"
        );
        for (member_id, unread_count) in inbox::unread_counts(&self.core, &members).await? {
            self.registry.send(
                member_id,
                &LiveMessage::UnreadCount { unread_count }.to_json(),
            );
        }
        Ok(())
    }
}

async fn subscriber(
    hub: Weak<Hub>,
    core: Arc<Core>,
    stop: CancellationToken,
    ready: watch::Sender<bool>,
) {
    let sub = tokio::select! {
        () = stop.cancelled() => return,
        s = core.pubsub.subscribe() => s,
    };
    ready.send_replace(true);
    let mut sub = match sub {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot subscribe to live updates; WebSockets get only their initial count");
            return;
        }
    };
    tracing::debug!(pubsub = core.pubsub.name(), "live hub subscribed");
    loop {
        let r = tokio::select! {
            () = stop.cancelled() => break,
            r = sub.recv() => r,
        };
        let Some(r) = r else {
            tracing::warn!("the pub/sub subscription ended; live updates stop");
            break;
        };
        let mut events = vec![r];
        while events.len() < EVENTS_AT_ONCE
            && let Some(r) = sub.try_recv()
        {
            events.push(r);
        }
        let Some(hub) = hub.upgrade() else { break };
        hub.dispatch_all(events).await;
    }
    tracing::debug!("live hub stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_that_socket_only() {
        let reg = Registry::default();
        let mut fast = reg.register(1, 2, 8).unwrap();
        let slow = reg.register(1, 2, 8).unwrap();
        let other = reg.register(2, 2, 8).unwrap();
        assert_eq!(reg.len(), 3);
        assert_eq!(reg.send(1, "a"), 2);
        assert_eq!(fast.rx.try_recv().unwrap(), "a");
        assert_eq!(reg.send(1, "b"), 2);
        assert_eq!(fast.rx.try_recv().unwrap(), "b");
        // `slow` has two queued and never reads: the third drops it.
        assert_eq!(reg.send(1, "c"), 1);
        assert!(slow.kill.is_cancelled());
        assert!(!fast.kill.is_cancelled());
        assert!(!other.kill.is_cancelled());
        assert_eq!(fast.rx.try_recv().unwrap(), "c");
        assert_eq!(reg.len(), 2);
        assert_eq!(reg.connected_among(&[1, 2, 3]), vec![1, 2]);
        assert_eq!(
            reg.connected([(3, 30), (2, 20), (1, 10)], |&(m, _)| m),
            vec![(2, 20), (1, 10)]
        );
    }

    #[test]
    fn a_member_has_a_bounded_number_of_sockets_and_unregistering_forgets_them() {
        let reg = Registry::default();
        let a = reg.register(1, 4, 2).unwrap();
        let b = reg.register(1, 4, 2).unwrap();
        assert!(matches!(reg.register(1, 4, 2), Err(TooManyConnections)));
        reg.unregister(1, a.id);
        assert!(reg.is_connected(1));
        reg.unregister(1, b.id);
        assert!(!reg.is_connected(1));
        assert!(reg.is_empty());
        assert_eq!(reg.send(1, "x"), 0);
    }

    #[test]
    fn a_closed_socket_is_forgotten_when_sent_to() {
        let reg = Registry::default();
        let a = reg.register(1, 4, 8).unwrap();
        drop(a.rx);
        assert_eq!(reg.send(1, "x"), 0);
        assert!(!reg.is_connected(1));
    }
}
