//! What services take and give for meetings: inputs, patches, answers, views.

use chrono::{DateTime, Utc};
use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

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

crate::words! {
    /// An invitee's answer to the notice (`none` until they answer).
    pub enum Answer {
        None = "none",
        Attending = "attending",
        Leave = "leave",
    }
}

/// Minutes before a meeting's start at which its reminders go out, as stored in
/// `meetings.reminder_offsets` and `meeting_series.reminder_offsets` (a JSON array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ReminderOffsets(pub Vec<i32>);

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

crate::words! {
    /// What kind of meeting (三会一课 and the branch's other days).
    pub enum MeetingKind {
        GeneralMeeting = "general_meeting",
        CommitteeMeeting = "committee_meeting",
        GroupMeeting = "group_meeting",
        PartyLesson = "party_lesson",
        ThemedDay = "themed_day",
        StudyDay = "study_day",
        Other = "other",
    }
}

crate::words! {
    pub enum MeetingStatus {
        Scheduled = "scheduled",
        Canceled = "canceled",
    }
}

crate::words! {
    pub enum SeriesStatus {
        Active = "active",
        Canceled = "canceled",
    }
}

crate::words! {
    /// Whether an invitee was there: checked in on time, late, or absent.
    pub enum Attendance {
        Present = "present",
        Late = "late",
        Absent = "absent",
    }
}

crate::words! {
    /// How attendance was recorded: the member's code, or the organiser's hand.
    pub enum CheckInMethod {
        Code = "code",
        Manual = "manual",
    }
}

crate::words! {
    /// What one of a meeting's broadcasts was for.
    pub enum Purpose {
        Notice = "notice",
        Change = "change",
        Cancel = "cancel",
        Reminder = "reminder",
        Nudge = "nudge",
        MakeUp = "make_up",
    }
}
