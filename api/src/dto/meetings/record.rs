//! A meeting's record as admins see it: counts, quorum, invitees, its broadcasts; the check-in
//! code, make-up study and the yearly summary.

use chrono::{DateTime, Utc};
use fingertip_core::meetings::record::{Counts, InviteeRow, KindSummary, MeetingRecord, Quorum};
use serde::Serialize;
use utoipa::ToSchema;

use super::MeetingResponse;
use crate::dto::common::Id;

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
    #[schema(value_type = crate::dto::enums::QuorumRuleSchema)]
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
    #[schema(value_type = String)]
    pub member_id: Id,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub unit_name: Option<String>,
    pub tags: Vec<String>,
    /// none, attending or leave
    #[schema(value_type = crate::dto::enums::AnswerSchema)]
    pub answer: fingertip_core::meetings::Answer,
    pub reason: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// present, late, absent or null (no check-in)
    #[schema(value_type = Option<crate::dto::enums::AttendanceSchema>)]
    pub attendance: Option<fingertip_core::meetings::Attendance>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// code or manual
    #[schema(value_type = Option<crate::dto::enums::CheckInMethodSchema>)]
    pub check_in_method: Option<fingertip_core::meetings::CheckInMethod>,
}

impl From<InviteeRow> for InviteeResponse {
    fn from(r: InviteeRow) -> Self {
        Self {
            member_id: Id(r.member_id),
            name: r.name,
            unit_id: r.unit_id.map(Id),
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
    #[schema(value_type = String)]
    pub broadcast_id: Id,
    /// notice, change, cancel, reminder, nudge or make_up
    #[schema(value_type = crate::dto::enums::PurposeSchema)]
    pub purpose: fingertip_core::meetings::Purpose,
    pub offset_minutes: Option<i32>,
    #[schema(value_type = crate::dto::enums::BroadcastStatusSchema)]
    pub status: fingertip_core::broadcasts::Status,
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
    pub fn new(
        r: MeetingRecord,
        b: Vec<(
            i64,
            fingertip_core::meetings::Purpose,
            Option<i32>,
            fingertip_core::broadcasts::Status,
        )>,
    ) -> Self {
        Self {
            meeting: r.meeting.into(),
            counts: r.counts.into(),
            quorum: r.quorum.into(),
            invitees: r.invitees.into_iter().map(Into::into).collect(),
            broadcasts: b
                .into_iter()
                .map(
                    |(id, purpose, offset_minutes, status)| MeetingBroadcastBody {
                        broadcast_id: Id(id),
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
    #[schema(value_type = String)]
    pub broadcast_id: Id,
    pub recipients: u64,
    pub read_by: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KindSummaryBody {
    #[schema(value_type = crate::dto::enums::MeetingKindSchema)]
    pub kind: fingertip_core::meetings::MeetingKind,
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
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub kinds: Vec<KindSummaryBody>,
}
