use chrono::{DateTime, FixedOffset, Utc};
use fingertip_core::meetings::record::{Counts, InviteeRow, KindSummary, MeetingRecord, Quorum};
use fingertip_core::meetings::series::SeriesView;
use fingertip_core::meetings::{MeetingView, MyMeeting};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::broadcasts::AudienceBody;
use super::common::{IdIn, double_option, id_str};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingRequest {
    /// general_meeting, committee_meeting, group_meeting, party_lesson, themed_day, study_day
    /// or other.
    #[schema(value_type = super::enums::MeetingKindSchema)]
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
    #[schema(value_type = super::enums::AnswerChoiceSchema)]
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
    #[schema(value_type = super::enums::AttendanceSchema)]
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
    #[param(value_type = Option<super::enums::WhenSchema>)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingResponse {
    pub id: String,
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: String,
    pub title: String,
    pub unit_id: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    pub audience: AudienceBody,
    pub post_id: Option<String>,
    pub timezone: String,
    pub reminder_offsets: Vec<i32>,
    /// scheduled or canceled
    #[schema(value_type = super::enums::MeetingStatusSchema)]
    pub status: String,
    pub notice_broadcast_id: Option<String>,
    pub minutes_md: Option<String>,
    pub minutes_at: Option<DateTime<Utc>>,
    /// The meeting series this meeting is an occurrence of.
    pub series_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MeetingView> for MeetingResponse {
    fn from(v: MeetingView) -> Self {
        let m = v.row;
        Self {
            id: id_str(m.id),
            kind: m.kind,
            title: m.title,
            unit_id: m.unit_id.map(id_str),
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            place: m.place,
            online_link: m.online_link,
            agenda: m.agenda,
            audience: AudienceBody::from_core(&v.audience),
            post_id: m.post_id.map(id_str),
            timezone: m.timezone,
            reminder_offsets: v.reminder_offsets,
            status: m.status,
            notice_broadcast_id: m.notice_broadcast_id.map(id_str),
            minutes_md: m.minutes_md,
            minutes_at: m.minutes_at,
            series_id: m.series_id.map(id_str),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A meeting as an invitee sees it, with their own answer and attendance.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyMeetingResponse {
    pub id: String,
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    pub post_id: Option<String>,
    /// scheduled or canceled
    #[schema(value_type = super::enums::MeetingStatusSchema)]
    pub status: String,
    /// none, attending or leave
    #[schema(value_type = super::enums::AnswerSchema)]
    pub answer: String,
    pub reason: Option<String>,
    /// present, late, absent (recorded by hand) or null
    #[schema(value_type = Option<super::enums::AttendanceSchema>)]
    pub attendance: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl From<MyMeeting> for MyMeetingResponse {
    fn from(v: MyMeeting) -> Self {
        let m = v.meeting.row;
        Self {
            id: id_str(m.id),
            kind: m.kind,
            title: m.title,
            starts_at: m.starts_at,
            ends_at: m.ends_at,
            place: m.place,
            online_link: m.online_link,
            agenda: m.agenda,
            post_id: m.post_id.map(id_str),
            status: m.status,
            answer: v.answer,
            reason: v.reason,
            attendance: v.attendance,
            checked_in_at: v.checked_in_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountsBody {
    pub invited: u64,
    pub attending: u64,
    pub leave: u64,
    pub no_answer: u64,
    pub present: u64,
    pub late: u64,
    pub absent: u64,
}

impl From<Counts> for CountsBody {
    fn from(c: Counts) -> Self {
        Self {
            invited: c.invited,
            attending: c.attending,
            leave: c.leave,
            no_answer: c.no_answer,
            present: c.present,
            late: c.late,
            absent: c.absent,
        }
    }
}

/// `rule` is general_meeting (over invitees without the tag 预备党员), committee_meeting
/// (over invitees with the tag 支委) or none (the other fields are then absent).
#[derive(Debug, Serialize, ToSchema)]
pub struct QuorumBody {
    #[schema(value_type = super::enums::QuorumRuleSchema)]
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub present: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
}

impl From<Quorum> for QuorumBody {
    fn from(q: Quorum) -> Self {
        let some = q.rule != "none";
        Self {
            rule: q.rule.to_string(),
            eligible: some.then_some(q.eligible),
            present: some.then_some(q.present),
            required: some.then_some(q.required),
            held: some.then_some(q.held),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteeResponse {
    pub member_id: String,
    pub name: String,
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    pub tags: Vec<String>,
    /// none, attending or leave
    #[schema(value_type = super::enums::AnswerSchema)]
    pub answer: String,
    pub reason: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// present, late, absent or null (no check-in)
    #[schema(value_type = Option<super::enums::AttendanceSchema>)]
    pub attendance: Option<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// code or manual
    #[schema(value_type = Option<super::enums::CheckInMethodSchema>)]
    pub check_in_method: Option<String>,
}

impl From<InviteeRow> for InviteeResponse {
    fn from(r: InviteeRow) -> Self {
        Self {
            member_id: id_str(r.member_id),
            name: r.name,
            unit_id: r.unit_id.map(id_str),
            unit_name: r.unit_name,
            tags: r.tags,
            answer: r.answer,
            reason: r.reason,
            answered_at: r.answered_at,
            attendance: r.attendance,
            checked_in_at: r.checked_in_at,
            check_in_method: r.check_in_method,
        }
    }
}

/// A broadcast sent for the meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingBroadcastBody {
    pub broadcast_id: String,
    /// notice, change, cancel, reminder, nudge or make_up
    #[schema(value_type = super::enums::PurposeSchema)]
    pub purpose: String,
    pub offset_minutes: Option<i32>,
    #[schema(value_type = super::enums::BroadcastStatusSchema)]
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingRecordResponse {
    #[serde(flatten)]
    pub meeting: MeetingResponse,
    pub counts: CountsBody,
    pub quorum: QuorumBody,
    pub invitees: Vec<InviteeResponse>,
    pub broadcasts: Vec<MeetingBroadcastBody>,
}

impl MeetingRecordResponse {
    pub fn new(r: MeetingRecord, b: Vec<(i64, String, Option<i32>, String)>) -> Self {
        Self {
            meeting: r.meeting.into(),
            counts: r.counts.into(),
            quorum: r.quorum.into(),
            invitees: r.invitees.into_iter().map(Into::into).collect(),
            broadcasts: b
                .into_iter()
                .map(
                    |(id, purpose, offset_minutes, status)| MeetingBroadcastBody {
                        broadcast_id: id_str(id),
                        purpose,
                        offset_minutes,
                        status,
                    },
                )
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckinCodeResponse {
    pub code: String,
    /// When this code stops being the current one (it is still accepted for one more window).
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MakeUpResponse {
    pub broadcast_id: String,
    pub recipients: u64,
    pub read_by: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KindSummaryBody {
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: String,
    pub label: String,
    pub total: u64,
    pub held: u64,
    /// Q1..Q4
    pub quarters: Vec<u64>,
    /// January..December
    pub months: Vec<u64>,
}

impl From<KindSummary> for KindSummaryBody {
    fn from(k: KindSummary) -> Self {
        Self {
            kind: k.kind,
            label: k.label.to_string(),
            total: k.total,
            held: k.held,
            quarters: k.quarters.to_vec(),
            months: k.months.to_vec(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryResponse {
    pub year: i32,
    pub unit_id: Option<String>,
    pub kinds: Vec<KindSummaryBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMeetingSeriesRequest {
    /// As for a meeting: general_meeting, committee_meeting, group_meeting, party_lesson,
    /// themed_day, study_day or other.
    #[schema(value_type = super::enums::MeetingKindSchema)]
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
    pub id: String,
    #[schema(value_type = super::enums::MeetingKindSchema)]
    pub kind: String,
    pub title: String,
    pub unit_id: Option<String>,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub online_link: Option<String>,
    pub agenda: String,
    pub audience: AudienceBody,
    pub post_id: Option<String>,
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
    #[schema(value_type = super::enums::SeriesStatusSchema)]
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SeriesView> for MeetingSeriesResponse {
    fn from(v: SeriesView) -> Self {
        let s = v.row;
        Self {
            id: id_str(s.id),
            kind: s.kind,
            title: s.title,
            unit_id: s.unit_id.map(id_str),
            duration_minutes: s.duration_minutes,
            place: s.place,
            online_link: s.online_link,
            agenda: s.agenda,
            audience: AudienceBody::from_core(&v.audience),
            post_id: s.post_id.map(id_str),
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
