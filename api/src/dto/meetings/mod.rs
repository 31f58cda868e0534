//! Meetings: the organiser's and the member's views, and (in submodules) requests, the
//! record and series.

mod record;
mod requests;
mod series;

pub use record::{
    CheckinCodeResponse, CountsBody, InviteeResponse, KindSummaryBody, MakeUpResponse,
    MeetingBroadcastBody, MeetingRecordResponse, QuorumBody, SummaryResponse,
};
pub use requests::{
    AnswerRequest, AttendanceRequest, CancelMeetingRequest, CheckInRequest, CreateMeetingRequest,
    MakeUpRequest, MeetingsQuery, MinutesRequest, MyMeetingsQuery, SummaryQuery,
    UpdateMeetingRequest,
};
pub use series::{
    CreateMeetingSeriesRequest, MeetingSeriesDetailResponse, MeetingSeriesResponse, SeriesQuery,
};

use chrono::{DateTime, Utc};
use fingertip_core::meetings::{MeetingView, MyMeeting};
use serde::Serialize;
use utoipa::ToSchema;

use crate::dto::broadcasts::AudienceBody;
use crate::dto::common::Id;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: fingertip_core::meetings::MeetingKind,
    pub title: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    pub audience: AudienceBody,
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
    pub timezone: String,
    pub reminder_offsets: Vec<i32>,
    /// scheduled or canceled
    #[schema(value_type = crate::dto::enums::MeetingStatusSchema)]
    pub status: fingertip_core::meetings::MeetingStatus,
    #[schema(value_type = Option<String>)]
    pub notice_broadcast_id: Option<Id>,
    pub minutes_md: Option<String>,
    pub minutes_at: Option<DateTime<Utc>>,
    /// The meeting series this meeting is an occurrence of.
    #[schema(value_type = Option<String>)]
    pub series_id: Option<Id>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MeetingView> for MeetingResponse {
    fn from(v: MeetingView) -> Self {
        let m = v.row;
        Self {
            id: Id(m.id),
            kind: m.kind,
            title: m.title,
            unit_id: m.unit_id.map(Id),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            place: m.place,
            online_link: m.online_link,
            agenda: m.agenda,
            audience: AudienceBody::from_core(&v.audience),
            post_id: m.post_id.map(Id),
            timezone: m.timezone,
            reminder_offsets: v.reminder_offsets,
            status: m.status,
            notice_broadcast_id: m.notice_broadcast_id.map(Id),
            minutes_md: m.minutes_md,
            minutes_at: m.minutes_at,
            series_id: m.series_id.map(Id),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A meeting as an invitee sees it, with their own answer and attendance.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyMeetingResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: fingertip_core::meetings::MeetingKind,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
    /// scheduled or canceled
    #[schema(value_type = crate::dto::enums::MeetingStatusSchema)]
    pub status: fingertip_core::meetings::MeetingStatus,
    /// none, attending or leave
    #[schema(value_type = crate::dto::enums::AnswerSchema)]
    pub answer: fingertip_core::meetings::Answer,
    pub reason: Option<String>,
    /// present, late, absent (recorded by hand) or null
    #[schema(value_type = Option<crate::dto::enums::AttendanceSchema>)]
    pub attendance: Option<fingertip_core::meetings::Attendance>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl From<MyMeeting> for MyMeetingResponse {
    fn from(v: MyMeeting) -> Self {
        let m = v.meeting.row;
        Self {
            id: Id(m.id),
            kind: m.kind,
            title: m.title,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            place: m.place,
            online_link: m.online_link,
            agenda: m.agenda,
            post_id: m.post_id.map(Id),
            status: m.status,
            answer: v.answer,
            reason: v.reason,
            attendance: v.attendance,
            checked_in_at: v.checked_in_at,
        }
    }
}
