//! Feedback to the branch on the wire: threads, messages, writing (named or anonymous).

use chrono::{DateTime, Utc};
use fingertip_core::feedback::{Message, Person, Thread};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn};

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackPerson {
    #[schema(value_type = String)]
    pub id: Id,
    pub name: String,
}

fn person(p: Option<Person>) -> Option<FeedbackPerson> {
    p.map(|p| FeedbackPerson {
        id: Id(p.id),
        name: p.name,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackMessageBody {
    #[schema(value_type = String)]
    pub id: Id,
    /// Written by the thread's writer (else by one of the unit's managers).
    pub from_writer: bool,
    /// Absent for an anonymous writer.
    pub author: Option<FeedbackPerson>,
    pub body: String,
    /// An anonymous writer's: the start of its day.
    pub created_at: DateTime<Utc>,
}

impl From<Message> for FeedbackMessageBody {
    fn from(m: Message) -> Self {
        Self {
            id: Id(m.id),
            from_writer: m.from_writer,
            author: person(m.author),
            body: m.body,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackThread {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub unit_name: String,
    pub anonymous: bool,
    /// Absent when anonymous.
    pub writer: Option<FeedbackPerson>,
    pub topic: String,
    #[schema(value_type = super::enums::FeedbackStateSchema)]
    pub state: String,
    pub created_at: DateTime<Utc>,
    /// Since when it waits for an answer (open).
    pub waiting_since: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Oldest first; empty in a list.
    pub messages: Vec<FeedbackMessageBody>,
}

impl From<Thread> for FeedbackThread {
    fn from(t: Thread) -> Self {
        Self {
            id: Id(t.id),
            unit_id: Id(t.unit_id),
            unit_name: t.unit_name,
            anonymous: t.anonymous,
            writer: person(t.writer),
            topic: t.topic,
            state: t.state.as_str().to_string(),
            created_at: t.created_at,
            waiting_since: t.waiting_since,
            answered_at: t.answered_at,
            closed_at: t.closed_at,
            messages: t.messages.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackList {
    pub items: Vec<FeedbackThread>,
}

/// A thread to write: to the writer's own unit (default) or one above it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    pub unit_id: Option<IdIn>,
    #[schema(min_length = 1, max_length = 100)]
    pub topic: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

/// An anonymous thread as written: its key, shown this once, opens it from now on.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnonymousFeedbackCreated {
    /// Keep it on the phone: nobody else has it, and it cannot be recovered.
    pub key: String,
    pub thread: FeedbackThread,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackMessageRequest {
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

/// An anonymous thread's key (in the body, so that it stays out of URLs and their logs).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackKeyRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymousMessageRequest {
    #[schema(min_length = 1, max_length = 64)]
    pub key: String,
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedbackListQuery {
    /// Only the threads addressed to this unit's subtree.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    /// Only threads in this state: open, answered or closed.
    #[param(max_length = 16)]
    pub state: Option<String>,
}
