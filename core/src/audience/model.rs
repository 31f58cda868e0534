//! An audience as stored (JSON in `broadcasts`, `meetings` and `meeting_series`): who, before
//! it is resolved to members.

use sea_orm::FromJsonQueryResult;
use serde::{Deserialize, Serialize};

use crate::auth::Role;

/// Stored as JSON in `broadcasts.audience`, `meetings.audience` and `meeting_series.audience`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Audience {
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub unit_ids: Vec<i64>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub member_ids: Vec<i64>,
    /// The units the creator manages when the creator is a secretary; fixed at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_units: Option<Vec<i64>>,
    /// Only invitees of a meeting, as they stand when the fan-out runs (meeting notices,
    /// reminders and nudges). Set by `core::meetings`, never by a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<MeetingSelector>,
    /// Only those asked by a survey, as they stand when the fan-out runs (its notice and its
    /// reminders). Set by `core::surveys`, never by a client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey: Option<SurveySelector>,
}

/// Cuts an audience to a meeting's invitees, evaluated at fan-out time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingSelector {
    pub meeting_id: i64,
    /// Only invitees whose answer is one of these (`none`, `attending`, `leave`); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<crate::meetings::Answer>,
    /// Only invitees with no presence recorded (no check-in, or recorded absent): make-up study.
    #[serde(default)]
    pub absent_only: bool,
    /// Nobody while the meeting is canceled (reminders and nudges: one that slipped past the
    /// cancel must not tell people to come).
    #[serde(default)]
    pub only_while_scheduled: bool,
}

/// Cuts an audience to a survey's participants, evaluated at fan-out time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveySelector {
    pub survey_id: i64,
    /// Only those who have not answered (a reminder).
    #[serde(default)]
    pub unanswered_only: bool,
}
