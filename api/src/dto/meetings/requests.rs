//! What clients send about meetings: bodies and query strings.

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::dto::broadcasts::AudienceBody;
use crate::dto::common::{IdIn, double_option};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingRequest {
    /// general_meeting, committee_meeting, group_meeting, party_lesson, themed_day, study_day,
    /// org_life (组织生活会), member_evaluation (民主评议党员)
    /// or other.
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The unit holding the meeting; default the creator's unit.
    pub unit_id: Option<IdIn>,
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// A place, an online link, or both (at least one).
    #[schema(max_length = 200)]
    pub place: Option<String>,
    #[schema(max_length = 2048)]
    pub online_link: Option<String>,
    /// Markdown.
    #[schema(max_length = 20000)]
    pub agenda: Option<String>,
    /// Who is invited, as for broadcasts; resolved to invitees when the meeting is created.
    pub audience: AudienceBody,
    /// The lesson taught, re-sent as make-up study.
    pub post_id: Option<IdIn>,
    /// IANA zone the notices show times in; default the server's.
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    /// Minutes before the start when reminders go out; default [1440, 60]; at most 5.
    #[schema(max_items = 5)]
    pub reminder_offsets: Option<Vec<i32>>,
}

/// Absent fields stay; `place`, `online_link` and `post_id` may be `null` to clear them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeetingRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub starts_at: Option<DateTime<FixedOffset>>,
    pub ends_at: Option<DateTime<FixedOffset>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub place: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    pub online_link: Option<Option<String>>,
    #[schema(max_length = 20000)]
    pub agenda: Option<String>,
    pub audience: Option<AudienceBody>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Option<IdIn>>,
    #[schema(max_items = 5)]
    pub reminder_offsets: Option<Vec<i32>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelMeetingRequest {
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// attending or leave
    #[schema(value_type = crate::dto::enums::AnswerChoiceSchema)]
    pub answer: String,
    /// Required with leave.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckInRequest {
    /// The six digits on the organiser's phone.
    #[schema(min_length = 1, max_length = 16)]
    pub code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceRequest {
    pub member_id: IdIn,
    /// present, late or absent
    #[schema(value_type = crate::dto::enums::AttendanceSchema)]
    pub status: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MinutesRequest {
    #[schema(min_length = 1, max_length = 100000)]
    pub minutes_md: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct MakeUpRequest {
    /// Default 7 days from now.
    pub read_by: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MyMeetingsQuery {
    /// upcoming (default: not yet ended, soonest first) or past (latest first)
    #[param(value_type = Option<crate::dto::enums::WhenSchema>)]
    pub when: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MeetingsQuery {
    /// A unit (with its subtree); default every unit the caller manages.
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    /// Calendar year in the server's zone; default this year.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SummaryQuery {
    #[param(max_length = 20)]
    pub unit_id: Option<String>,
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}
