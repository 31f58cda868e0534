//! What the broadcast services take and give: statuses, channels, inputs, patches, views.

use chrono::{DateTime, Utc};
use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

use crate::audience::Audience;
use crate::broadcasts::ladder::Ladder;

crate::words! {
    /// Where a broadcast stands. Stored in `broadcasts.status`.
    pub enum Status {
        /// Waiting for `next_run_at`.
        Scheduled = "scheduled",
        /// An occurrence is being fanned out.
        Sending = "sending",
        /// Done: a one-off sent, or a rule with no occurrence left.
        Sent = "sent",
        Canceled = "canceled",
        Failed = "failed",
    }
}

crate::words! {
    /// Where a broadcast goes: the inbox always, and the push channels. Stored in
    /// `broadcasts.channels` (a JSON array) and `push_deliveries.channel`.
    pub enum Channel {
        Inbox = "inbox",
        Wechat = "wechat",
        Wecom = "wecom",
    }
}

/// A broadcast's channels as stored in `broadcasts.channels`: a JSON array of words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Channels(pub Vec<Channel>);

#[derive(Debug, Clone, Default)]
pub struct BroadcastInput {
    /// The unit the broadcast belongs to; see [`access::owner_unit`] for the default.
    pub unit_id: Option<i64>,
    pub post_id: i64,
    pub audience: Audience,
    /// Names as the client sent them; `None` means every configured channel.
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub timezone: Option<String>,
    pub read_by: Option<DateTime<Utc>>,
    /// The required-reading ladder; `None` with a `read_by` means the default.
    pub ladder: Option<Ladder>,
    pub urgent: bool,
}

#[derive(Debug, Clone)]
pub struct BroadcastView {
    pub id: i64,
    /// The unit the broadcast belongs to; `None`: the whole organisation.
    pub unit_id: Option<i64>,
    pub post_id: i64,
    pub title: String,
    pub status: Status,
    pub audience: Audience,
    pub channels: Vec<Channel>,
    pub send_at: DateTime<Utc>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub recurrence: Option<String>,
    pub occurrences_sent: i64,
    /// The next few occurrences of a rule (filled in by [`find`]), for the admin to check it.
    pub upcoming: Vec<DateTime<Utc>>,
    pub timezone: String,
    pub read_by: Option<DateTime<Utc>>,
    /// The required-reading ladder of a broadcast with a deadline.
    pub ladder: Option<Ladder>,
    /// The ladder's steps, planned and run (filled in by [`find`](super::read::find)).
    pub steps: Vec<crate::broadcasts::ladder::StepView>,
    pub urgent: bool,
    pub audience_size: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A change to a scheduled broadcast; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct BroadcastPatch {
    pub post_id: Option<i64>,
    pub audience: Option<Audience>,
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<Utc>>,
    /// `Some(None)` turns a recurring broadcast into a one-off at `send_at`.
    pub recurrence: Option<Option<String>>,
    pub timezone: Option<String>,
    pub read_by: Option<Option<DateTime<Utc>>>,
    /// A new ladder (kept when `None`; only stored while there is a deadline).
    pub ladder: Option<Ladder>,
    pub urgent: Option<bool>,
}
