//! What differs between push channels, as one trait the pipeline in `pipeline.rs` runs.
//!
//! A channel decides per row without calling anyone (`decide`), groups what goes out into
//! units (`units`: rows marked `sending` together, each unit one or more platform calls with
//! one rate-limit slot each), and sends one call (`send`). Around the send it may take
//! something it must give back when the answer shows the message did not arrive
//! (`before_send`, `after_send`: WeChat's consent credits).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Row;
use super::outcome::Outcome;
use crate::error::CoreResult;
use crate::ports::rate_limit::Limit;

/// What becomes of a claimed row before anything is sent.
pub(super) enum Decision<I> {
    /// Not sent, by design; the reason stays on the row (`skipped`).
    Skip(String),
    /// Not now: back to `pending` until `at` without counting an attempt, `why` as its last
    /// error.
    Defer {
        at: DateTime<Utc>,
        why: &'static str,
    },
    /// It goes out, as this item of the channel's.
    Send(I),
}

/// One platform call: a message and the rows it answers for.
pub(super) struct Call<M> {
    pub rows: Vec<Row>,
    pub message: M,
}

/// Calls whose rows are marked `sending` in one statement and whose outcomes are recorded in
/// one transaction.
pub(super) struct Unit<M> {
    pub calls: Vec<Call<M>>,
}

#[async_trait::async_trait]
pub(super) trait Channel: Send + Sync {
    /// What `decide` makes of a row that goes out (WeChat: its message; WeCom: the user id).
    type Item: Send;
    /// What one call sends (WeChat: a subscribe message; WeCom: a text card).
    type Message: Send + Sync;
    /// What `before_send` took and `after_send` may give back.
    type Taken: Send;

    /// The rate-limit key: one limit per platform app, shared by every worker.
    fn rate_key(&self) -> String;
    fn rate(&self) -> Limit;
    /// Units in flight at once.
    fn parallel(&self) -> usize;

    /// Decides one row without calling anyone. Rows are decided in claim order, and a
    /// decision may count down what the channel loaded for the pass (credits, budgets).
    fn decide(&mut self, row: &Row) -> Decision<Self::Item>;

    /// Groups the rows that go out into units, in the order they should leave.
    fn units(&self, rows: Vec<(Row, Self::Item)>) -> Vec<Unit<Self::Message>>;

    /// After the rows are marked `sending`, before any call leaves.
    async fn before_send(&self, rows: &[&Row]) -> CoreResult<Self::Taken>;

    /// Makes one call for the rows of it that are still ours (never empty); one outcome per
    /// row. Never fails as a whole: a failure is each row's outcome.
    async fn send(&self, message: &Self::Message, rows: Vec<Row>) -> Vec<(Row, Outcome)>;

    /// After the answers came back, before they are recorded.
    async fn after_send(&self, outcomes: &[(Row, Outcome)], taken: Self::Taken) -> CoreResult<()>;
}

/// Splits `v` into runs of at most `n`, keeping the order.
pub(super) fn chunked<T>(v: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let n = n.max(1);
    let mut out = Vec::with_capacity(v.len().div_ceil(n));
    let mut it = v.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(n).collect());
    }
    out
}

/// A rate-limit wait as a lease extension.
pub(super) fn as_lease(wait: Duration) -> chrono::Duration {
    chrono::Duration::from_std(wait).unwrap_or_default()
}
