//! The pub/sub port: small, per-batch events that tell every API process that something in an
//! inbox changed, so that it can update the WebSockets it holds.
//!
//! Events are hints, never the truth: a lost event (Redis restarting, a subscriber that fell
//! behind) costs a live update, not data. The database stays the truth, and a client that
//! reconnects reads its inbox again. A subscriber hears of a possible loss as [`Received::Gap`].

use std::pin::Pin;

use futures_util::stream::Fuse;
use futures_util::{FutureExt, Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::error::CoreResult;

/// What happened, as small as possible: one event per fan-out batch, not per member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A fan-out batch committed: these members each have a new inbox item for this
    /// broadcast occurrence.
    InboxDelivered {
        broadcast_id: i64,
        occurrence: i64,
        member_ids: Vec<i64>,
        /// The items themselves, so that a subscriber need not read them back. Absent from
        /// events of a release before it (a subscriber then reads the items).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        items: Option<DeliveredItems>,
    },
    /// A member read something (one item or all): this is their unread count now.
    UnreadChanged { member_id: i64, unread_count: u64 },
    /// A session ended (logout, a reused refresh token): API processes forget it at once.
    SessionEnded { session_id: String },
    /// Members' role, unit or active flag changed: API processes check their sessions again.
    MembersChanged { member_ids: Vec<i64> },
}

/// The inbox items of an [`Event::InboxDelivered`]: all of one post, written at one time,
/// unread; `ids[k]` is the item of `member_ids[k]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveredItems {
    pub post_id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub ids: Vec<i64>,
}

/// What a subscription yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Event(Event),
    /// Events may have been lost just before this (the subscriber fell behind, or the
    /// connection to the broker was re-established). Whoever keeps state from events should
    /// resynchronise it from the database.
    Gap,
}

/// A live subscription to every event published from now on, by any process.
pub struct Subscription {
    inner: Fuse<Pin<Box<dyn Stream<Item = Received> + Send>>>,
}

impl Subscription {
    pub fn new(stream: impl Stream<Item = Received> + Send + 'static) -> Self {
        let inner: Pin<Box<dyn Stream<Item = Received> + Send>> = Box::pin(stream);
        Self {
            inner: inner.fuse(),
        }
    }

    /// The next event; `None` once the pub/sub has shut down for good.
    pub async fn recv(&mut self) -> Option<Received> {
        self.inner.next().await
    }

    /// The next event if one has arrived already, without waiting; `None` otherwise (and once
    /// the pub/sub has shut down, which the next [`Self::recv`] tells).
    pub fn try_recv(&mut self) -> Option<Received> {
        self.inner.next().now_or_never().flatten()
    }
}

#[async_trait::async_trait]
pub trait PubSub: Send + Sync + 'static {
    /// Sends an event to every current subscriber (of every process). Callers treat a failure
    /// as a lost live update: they log it and go on.
    async fn publish(&self, event: &Event) -> CoreResult<()>;
    /// Subscribes to the events published from now on. The subscription survives broker
    /// restarts (it reconnects by itself and reports a [`Received::Gap`]).
    async fn subscribe(&self) -> CoreResult<Subscription>;
    fn name(&self) -> &'static str;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_json() {
        let e = Event::InboxDelivered {
            broadcast_id: 7,
            occurrence: 0,
            member_ids: vec![1, 2],
            items: None,
        };
        let s = serde_json::to_string(&e).unwrap();
        // As a release before the items were carried wrote it, and read it.
        assert_eq!(
            s,
            r#"{"type":"inbox_delivered","broadcast_id":7,"occurrence":0,"member_ids":[1,2]}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&s).unwrap(), e);
        let with = Event::InboxDelivered {
            broadcast_id: 7,
            occurrence: 0,
            member_ids: vec![1, 2],
            items: Some(DeliveredItems {
                post_id: 5,
                created_at: "2026-12-02T09:00:00.123456Z".parse().unwrap(),
                ids: vec![11, 12],
            }),
        };
        let s = serde_json::to_string(&with).unwrap();
        assert!(
            s.contains(
                r#""items":{"post_id":5,"created_at":"2026-12-02T09:00:00.123456Z","ids":[11,12]}"#
            ),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Event>(&s).unwrap(), with);
        let u: Event =
            serde_json::from_str(r#"{"type":"unread_changed","member_id":3,"unread_count":4}"#)
                .unwrap();
        assert_eq!(
            u,
            Event::UnreadChanged {
                member_id: 3,
                unread_count: 4
            }
        );
    }
}
