//! What the server sends on the live inbox WebSocket (`GET /api/v1/ws`), one JSON text
//! message each.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::inbox::InboxItemResponse;

#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type")]
pub enum LiveMessage {
    /// A new item arrived in the inbox; `item` has the shape of an item of `GET /api/v1/inbox`.
    /// The same item may come twice (a fan-out batch repeated after a worker died): clients
    /// keep items by `id`.
    #[serde(rename = "inbox.new")]
    InboxNew {
        item: InboxItemResponse,
        unread_count: u64,
    },
    /// The unread count now: sent on connect, after a read (on any device), and after the
    /// server may have missed updates.
    #[serde(rename = "inbox.unread_count")]
    UnreadCount { unread_count: u64 },
    /// The answer to a client's `{"type": "ping"}`.
    #[serde(rename = "pong")]
    Pong,
}

impl LiveMessage {
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail; an empty object would be harmless.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// What a client may send; anything else is ignored.
#[derive(Debug, Deserialize)]
pub struct ClientMessage {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// The access token, for clients that cannot set the `Authorization` header on a socket.
    pub access_token: Option<String>,
}
