//! The in-process pub/sub of the embedded shape (and of tests): a tokio broadcast channel.
//! Every subscriber of this process sees every event; a subscriber that falls more than
//! [`MemoryPubSub::CAPACITY`] events behind skips ahead and gets a [`Received::Gap`].

use futures_util::stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::pubsub::{Event, PubSub, Received, Subscription};
use crate::error::CoreResult;

pub struct MemoryPubSub {
    tx: broadcast::Sender<Event>,
}

impl Default for MemoryPubSub {
    fn default() -> Self {
        Self::with_capacity(Self::CAPACITY)
    }
}

impl MemoryPubSub {
    pub const CAPACITY: usize = 1024;

    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self { tx }
    }
}

#[async_trait::async_trait]
impl PubSub for MemoryPubSub {
    async fn publish(&self, event: &Event) -> CoreResult<()> {
        // An error only means that nobody listens right now.
        let _ = self.tx.send(event.clone());
        Ok(())
    }

    async fn subscribe(&self) -> CoreResult<Subscription> {
        let rx = self.tx.subscribe();
        Ok(Subscription::new(stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(e) => Some((Received::Event(e), rx)),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        skipped = n,
                        "a pub/sub subscriber fell behind; events were skipped"
                    );
                    Some((Received::Gap, rx))
                }
                Err(RecvError::Closed) => None,
            }
        })))
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(m: i64) -> Event {
        Event::UnreadChanged {
            member_id: m,
            unread_count: 0,
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let ps = MemoryPubSub::new();
        ps.publish(&ev(0)).await.unwrap(); // nobody listens: not an error
        let mut a = ps.subscribe().await.unwrap();
        let mut b = ps.subscribe().await.unwrap();
        ps.publish(&ev(1)).await.unwrap();
        ps.publish(&ev(2)).await.unwrap();
        for s in [&mut a, &mut b] {
            assert_eq!(s.recv().await, Some(Received::Event(ev(1))));
            assert_eq!(s.recv().await, Some(Received::Event(ev(2))));
        }
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_hears_of_a_gap_and_goes_on() {
        let ps = MemoryPubSub::with_capacity(2);
        let mut s = ps.subscribe().await.unwrap();
        for m in 1..=5 {
            ps.publish(&ev(m)).await.unwrap();
        }
        assert_eq!(s.recv().await, Some(Received::Gap));
        assert_eq!(s.recv().await, Some(Received::Event(ev(4))));
        assert_eq!(s.recv().await, Some(Received::Event(ev(5))));
        ps.publish(&ev(6)).await.unwrap();
        assert_eq!(s.recv().await, Some(Received::Event(ev(6))));
    }
}
