//! The study-hour ledger on the wire: heartbeats, a member's year, a unit's year, offline
//! records and targets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use fingertip_core::study::ledger::{Line, MemberYear, Required, UnitRow, UnitYear};
use fingertip_core::study::plan::{ItemState, PlanView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn};

/// A heartbeat from an open item: every 30 s or so while it is open, and once when it closes.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StudyHeartbeatRequest {
    /// A random key the client picks each time it opens the item (8 to 64 letters, digits, `-`,
    /// `_`); the first heartbeat of a key only starts its clock.
    pub session: String,
    /// Seconds the item was visible since this key's previous heartbeat (0 to 3600).
    pub visible_seconds: i64,
    /// The item was closed: later heartbeats of this key count nothing.
    #[serde(default)]
    pub closed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudyCreditResponse {
    /// Seconds this heartbeat earned.
    pub credited_seconds: i64,
    /// Seconds earned on this item so far.
    pub total_seconds: i64,
    /// The most this item can earn (its post's study minutes).
    pub limit_seconds: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct YearQuery {
    /// A calendar year (2000 to 2100); this year by default.
    pub year: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UnitYearQuery {
    /// A unit of the caller's scope, with its subtree; the whole scope by default.
    pub unit_id: Option<String>,
    pub year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudyLineResponse {
    #[schema(value_type = super::enums::StudyKindSchema)]
    pub kind: String,
    pub title: String,
    pub seconds: i64,
    pub at: DateTime<Utc>,
    /// An offline record (which an admin can remove).
    #[schema(value_type = Option<String>)]
    pub record_id: Option<Id>,
    pub note: Option<String>,
}

impl From<Line> for StudyLineResponse {
    fn from(l: Line) -> Self {
        Self {
            kind: l.kind.as_str().into(),
            title: l.title,
            seconds: l.seconds,
            at: l.at,
            record_id: l.record_id.map(Id),
            note: l.note,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RequiredReadingResponse {
    #[schema(value_type = String)]
    pub item_id: Id,
    pub title: String,
    pub read_by: DateTime<Utc>,
    pub overdue: bool,
}

impl From<Required> for RequiredReadingResponse {
    fn from(r: Required) -> Self {
        Self {
            item_id: Id(r.item_id),
            title: r.title,
            read_by: r.read_by,
            overdue: r.overdue,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberYearResponse {
    #[schema(value_type = String)]
    pub member_id: Id,
    pub name: String,
    pub year: i32,
    pub target_minutes: i32,
    pub total_minutes: i64,
    pub total_seconds: i64,
    pub remaining_minutes: i64,
    /// Credits, newest first.
    pub lines: Vec<StudyLineResponse>,
    /// Unread items with a read-by deadline, soonest first.
    pub required: Vec<RequiredReadingResponse>,
}

impl From<MemberYear> for MemberYearResponse {
    fn from(y: MemberYear) -> Self {
        Self {
            member_id: Id(y.member_id),
            remaining_minutes: y.remaining_minutes(),
            total_minutes: y.total_seconds / 60,
            name: y.name,
            year: y.year,
            target_minutes: y.target_minutes,
            total_seconds: y.total_seconds,
            lines: y.lines.into_iter().map(Into::into).collect(),
            required: y.required.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitYearRowResponse {
    #[schema(value_type = String)]
    pub member_id: Id,
    pub name: String,
    pub unit_name: String,
    pub target_minutes: i32,
    pub total_minutes: i64,
    /// What the target asks by now, in proportion to the year gone.
    pub expected_minutes: i64,
    pub behind: bool,
}

impl From<UnitRow> for UnitYearRowResponse {
    fn from(r: UnitRow) -> Self {
        Self {
            member_id: Id(r.member_id),
            name: r.name,
            unit_name: r.unit_name,
            target_minutes: r.target_minutes,
            total_minutes: r.total_seconds / 60,
            expected_minutes: r.expected_seconds / 60,
            behind: r.behind,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitYearResponse {
    pub year: i32,
    /// How many are behind their share of the target.
    pub behind: usize,
    /// Furthest behind first.
    pub members: Vec<UnitYearRowResponse>,
}

impl From<UnitYear> for UnitYearResponse {
    fn from(u: UnitYear) -> Self {
        Self {
            year: u.year,
            behind: u.rows.iter().filter(|r| r.behind).count(),
            members: u.rows.into_iter().map(Into::into).collect(),
        }
    }
}

/// Offline study to record for a member.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StudyRecordRequest {
    #[schema(value_type = String)]
    pub member_id: IdIn,
    /// `course`, `reading_club`, `youth_forum` or `other`.
    pub kind: String,
    pub title: String,
    /// 1 to 6000.
    pub minutes: i64,
    /// The day it took place (`2026-12-01`).
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudyRecordResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub member_id: Id,
    #[schema(value_type = super::enums::StudyKindSchema)]
    pub kind: String,
    pub title: String,
    pub minutes: i64,
    pub year: i32,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Yearly targets in minutes: a default, and by role and by tag; a member's target is the
/// highest that applies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StudyTargetsBody {
    pub default_minutes: i32,
    /// By role (`member`, `secretary`, `admin`).
    #[serde(default)]
    pub roles: BTreeMap<String, i32>,
    /// By tag, e.g. `{"领导干部": 3360}`.
    #[serde(default)]
    pub tags: BTreeMap<String, i32>,
}

/// `?unit_id=&year=`
#[derive(Debug, Deserialize, IntoParams)]
pub struct PlanQuery {
    /// The unit (one of the caller's scope).
    pub unit_id: Option<String>,
    /// Default: this year.
    pub year: Option<i32>,
}

/// A planned lesson as given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItemRequest {
    /// A lesson of the plan to keep (with its link unless `post_id` is given); absent: a new
    /// lesson. Lessons of the plan not given are removed.
    pub id: Option<IdIn>,
    #[schema(minimum = 1, maximum = 12)]
    pub month: i32,
    #[schema(max_length = 100)]
    pub theme: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Its post, when already written; `null` unlinks a kept lesson; absent keeps its link.
    #[serde(default, deserialize_with = "super::common::double_option")]
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Option<IdIn>>,
}

/// The plan of a unit and year; it replaces the one there was (its publication is kept).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavePlanRequest {
    pub unit_id: IdIn,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub themes: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 120)]
    pub items: Vec<PlanItemRequest>,
}

/// Link a planned lesson to its post, or unlink it (`null`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkPlanItemRequest {
    pub post_id: Option<IdIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanItemResponse {
    #[schema(value_type = String)]
    pub id: Id,
    pub month: i32,
    pub theme: Option<String>,
    pub title: String,
    #[schema(value_type = Option<String>)]
    pub post_id: Option<Id>,
    /// done (its post went out), due (its month is not over) or late.
    #[schema(value_type = super::enums::PlanItemStateSchema)]
    pub state: ItemState,
    /// When its post first went out.
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanResponse {
    #[schema(value_type = String)]
    pub id: Id,
    #[schema(value_type = String)]
    pub unit_id: Id,
    pub unit: String,
    pub year: i32,
    pub title: String,
    pub themes: Vec<String>,
    /// By month, in the plan's order.
    pub items: Vec<PlanItemResponse>,
    /// The post it was last published as.
    #[schema(value_type = Option<String>)]
    pub published_post_id: Option<Id>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<PlanView> for PlanResponse {
    fn from(p: PlanView) -> Self {
        PlanResponse {
            id: Id(p.id),
            unit_id: Id(p.unit_id),
            unit: p.unit,
            year: p.year,
            title: p.title,
            themes: p.themes,
            items: p
                .items
                .into_iter()
                .map(|i| PlanItemResponse {
                    id: Id(i.id),
                    month: i.month,
                    theme: i.theme,
                    title: i.title,
                    post_id: i.post_id.map(Id),
                    state: i.state,
                    sent_at: i.sent_at,
                })
                .collect(),
            published_post_id: p.published_post_id.map(Id),
            published_at: p.published_at,
            updated_at: p.updated_at,
        }
    }
}
