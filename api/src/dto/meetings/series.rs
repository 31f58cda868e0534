//! Meeting series: what clients send and get.

use chrono::{DateTime, FixedOffset, Utc};
use fingertip_core::meetings::series::SeriesView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::MeetingResponse;
use crate::dto::broadcasts::AudienceBody;
use crate::dto::common::{Id, IdIn};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingSeriesRequest {
    /// As for a meeting: general_meeting, committee_meeting, group_meeting, party_lesson,
    /// themed_day, study_day, org_life, member_evaluation or other.
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub unit_id: Option<IdIn>,
    /// The rule's anchor: occurrences are the rule's starts at or after it (not in the past).
    pub starts_at: DateTime<FixedOffset>,
    /// Each occurrence ends this many minutes after its start (1..=10080).
    #[schema(minimum = 1, maximum = 10080)]
    pub duration_minutes: i32,
    /// An iCalendar RRULE evaluated in `timezone`, at most daily, e.g.
    /// `FREQ=WEEKLY;BYDAY=FR;BYHOUR=8;BYMINUTE=30`.
    #[schema(min_length = 1, max_length = 500)]
    pub recurrence: String,
    /// How long before each occurrence its meeting is created and its notice sent; default
    /// 4320 (3 days), 60..=43200.
    #[schema(minimum = 60, maximum = 43200)]
    pub notice_lead_minutes: Option<i32>,
    #[schema(max_length = 200)]
    pub place: Option<String>,
    #[schema(max_length = 2048)]
    pub online_link: Option<String>,
    #[schema(max_length = 20000)]
    pub agenda: Option<String>,
    pub audience: AudienceBody,
    pub post_id: Option<IdIn>,
    /// IANA zone the rule is evaluated in; default the server's.
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    #[schema(max_items = 5)]
    pub reminder_offsets: Option<Vec<i32>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingSeriesResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: fingertip_core::meetings::MeetingKind,
    pub title: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    pub audience: AudienceBody,
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
    pub reminder_offsets: Vec<i32>,
    pub timezone: String,
    pub recurrence: String,
    pub starts_at: DateTime<Utc>,
    pub notice_lead_minutes: i32,
    /// Start of the next occurrence not yet materialized; null once the rule ended or the
    /// series was canceled.
    pub next_at: Option<DateTime<Utc>>,
    /// Up to 5 starts not yet materialized, from `next_at`.
    pub upcoming: Vec<DateTime<Utc>>,
    /// active or canceled
    #[schema(value_type = crate::dto::enums::SeriesStatusSchema)]
    pub status: fingertip_core::meetings::SeriesStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SeriesView> for MeetingSeriesResponse {
    fn from(v: SeriesView) -> Self {
        let s = v.row;
        Self {
            id: Id(s.id),
            kind: s.kind,
            title: s.title,
            unit_id: s.unit_id.map(Id),
            duration_minutes: s.duration_minutes,
            place: s.place,
            online_link: s.online_link,
            agenda: s.agenda,
            audience: AudienceBody::from_core(&v.audience),
            post_id: s.post_id.map(Id),
            reminder_offsets: v.reminder_offsets,
            timezone: s.timezone,
            recurrence: s.recurrence,
            starts_at: s.starts_at,
            notice_lead_minutes: s.notice_lead_minutes,
            next_at: s.next_at,
            upcoming: v.upcoming,
            status: s.status,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A series with the meetings materialized from it so far (soonest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingSeriesDetailResponse {
    #[serde(flatten)]
    pub series: MeetingSeriesResponse,
    pub meetings: Vec<MeetingResponse>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SeriesQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}
