//! What services take and give for meetings: inputs, patches, answers, views.

use chrono::{DateTime, Utc};

use super::words::{Answer, Attendance};
use crate::audience::Audience;
use crate::entities::meetings;

#[derive(Debug, Clone, Default)]
pub struct MeetingInput {
    pub kind: String,
    pub title: String,
    /// Defaults to the creator's unit.
    pub unit_id: Option<i64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: Option<String>,
    pub audience: Audience,
    pub post_id: Option<i64>,
    pub timezone: Option<String>,
    pub reminder_offsets: Option<Vec<i32>>,
}

/// A change to a meeting; `None` leaves a field alone (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default)]
pub struct MeetingPatch {
    pub title: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub place: Option<Option<String>>,
    pub online_link: Option<Option<String>>,
    pub agenda: Option<String>,
    pub audience: Option<Audience>,
    pub post_id: Option<Option<i64>>,
    pub reminder_offsets: Option<Vec<i32>>,
}

#[derive(Debug, Clone)]
pub struct MeetingView {
    pub row: meetings::Model,
    pub audience: Audience,
    pub reminder_offsets: Vec<i32>,
}

impl MeetingView {
    pub fn from_row(row: meetings::Model) -> Self {
        Self {
            audience: row.audience.clone(),
            reminder_offsets: row.reminder_offsets.0.clone(),
            row,
        }
    }
}

/// A meeting as one invitee sees it.
#[derive(Debug, Clone)]
pub struct MyMeeting {
    pub meeting: MeetingView,
    pub answer: Answer,
    pub reason: Option<String>,
    pub attendance: Option<Attendance>,
    pub checked_in_at: Option<DateTime<Utc>>,
}
