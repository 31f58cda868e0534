//! A meeting's closed word sets and its reminder offsets, as stored in their columns.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

crate::words! {
    /// An invitee's answer to the notice (`none` until they answer).
    pub enum Answer {
        None = "none",
        Attending = "attending",
        Leave = "leave",
    }
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
        /// The yearly organisational life meeting (组织生活会).
        OrgLife = "org_life",
        /// The yearly democratic evaluation of members (民主评议党员).
        MemberEvaluation = "member_evaluation",
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

/// Minutes before a meeting's start at which its reminders go out, as stored in
/// `meetings.reminder_offsets` and `meeting_series.reminder_offsets` (a JSON array).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct ReminderOffsets(pub Vec<i32>);
