//! Pushes to phones: WeChat subscribe messages and WeCom app messages.
//!
//! - `consent`: the WeChat consent ledger (one credit per `accept`, one used per send).
//! - `templates`: which subscribe template a post kind uses and what each keyword carries.
//! - `deliveries`: the delivery rows the fan-out writes beside the inbox rows, and their stats.
//! - `send`: one pass of a push worker over due deliveries: leases, budgets, rate limit, retries
//!   with backoff, dead letters, and the rule that a send the platform accepted is never
//!   repeated; one pipeline for every channel, what differs per channel behind a trait
//!   (`send/channel.rs`, implemented in `send/wechat.rs` and `send/wecom.rs`). The loop around
//!   the passes is `fingertip_workers::PushWorker`.
//! - `platform`: the adapter from the push port to the `fingertip-wechat` clients.

pub mod consent;
pub mod deliveries;
mod kw;
pub mod quiet;
pub mod send;
pub mod templates;

crate::words! {
    /// Where a delivery stands. Stored in `push_deliveries.status`.
    pub enum DeliveryStatus {
        /// Waiting for its first or next attempt (`next_attempt_at`).
        Pending = "pending",
        /// Handed to the platform by a worker that has not recorded the answer yet.
        Sending = "sending",
        /// Accepted by the platform (`msgid` recorded). Never sent again.
        Sent = "sent",
        /// Not sent and never will be, by design: the member is not bound, has no credit, or no
        /// template is configured. The inbox item exists regardless.
        Skipped = "skipped",
        /// Given up: a permanent error, or retries exhausted. The last error stays visible.
        Dead = "dead",
        /// A worker died between handing it to the platform and recording the answer: it may or
        /// may not have arrived, and it is not sent again (a duplicate is worse than a gap that
        /// the inbox covers anyway).
        Unknown = "unknown",
    }
}
