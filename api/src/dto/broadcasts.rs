use chrono::{DateTime, FixedOffset, Utc};
use fingertip_core::audience::Audience;
use fingertip_core::auth::Role;
use fingertip_core::broadcasts::ladder::{Ladder, Step, StepState, StepView};
use fingertip_core::broadcasts::{BroadcastView, Channel, RecipientView, Stats, Status};
use fingertip_core::push::deliveries::ChannelStats;
use fingertip_core::{CoreError, CoreResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{Id, IdIn, double_option, parse_ids};

/// `{"all": true}`, or any of the selectors: the given filters (units with their subtrees,
/// roles, tags) must all hold, and `member_ids` adds people on top.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct AudienceBody {
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 500)]
    pub unit_ids: Vec<IdIn>,
    #[serde(default)]
    #[schema(value_type = Vec<super::enums::RoleSchema>, max_items = 3)]
    pub roles: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<super::enums::TagSchema>, max_items = 100)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<String>, max_items = 10000)]
    pub member_ids: Vec<IdIn>,
}

impl AudienceBody {
    pub fn to_core(&self) -> CoreResult<Audience> {
        let roles = self
            .roles
            .iter()
            .map(|r| {
                r.parse::<Role>()
                    .map_err(|e| CoreError::invalid("audience.roles", e))
            })
            .collect::<CoreResult<Vec<_>>>()?;
        Ok(Audience {
            all: self.all,
            unit_ids: parse_ids("audience.unit_ids", &self.unit_ids)?,
            roles,
            tags: self.tags.clone(),
            member_ids: parse_ids("audience.member_ids", &self.member_ids)?,
            scope_units: None,
            meeting: None,
            survey: None,
        })
    }

    pub fn from_core(a: &Audience) -> Self {
        Self {
            all: a.all,
            unit_ids: a.unit_ids.iter().map(|i| IdIn::from(*i)).collect(),
            roles: a.roles.iter().map(|r| r.as_str().to_string()).collect(),
            tags: a.tags.clone(),
            member_ids: a.member_ids.iter().map(|i| IdIn::from(*i)).collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBroadcastRequest {
    /// The unit the broadcast belongs to (a secretary manages only their subtree's
    /// broadcasts). Default: the whole organisation for an admin, a secretary's own unit.
    pub unit_id: Option<IdIn>,
    pub post_id: IdIn,
    pub audience: AudienceBody,
    /// inbox is always included; without this field every configured push channel is used.
    #[schema(value_type = Option<Vec<super::enums::ChannelSchema>>, max_items = 3)]
    pub channels: Option<Vec<String>>,
    /// RFC 3339 with an offset; absent means now. With `recurrence`, the start of the rule.
    pub send_at: Option<DateTime<FixedOffset>>,
    /// An iCalendar RRULE such as `FREQ=MONTHLY;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0`, evaluated in
    /// `timezone` from `send_at` (or now). At most hourly; no DTSTART line.
    #[schema(min_length = 1, max_length = 500)]
    pub recurrence: Option<String>,
    /// IANA time zone for schedules; default from the server configuration.
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    pub read_by: Option<DateTime<FixedOffset>>,
    /// With `read_by`: how the deadline escalates. Absent: the default ladder (a reminder 24 h
    /// before, an urgent push at the deadline, the non-readers to their secretaries).
    pub ladder: Option<LadderBody>,
    #[serde(default)]
    pub urgent: bool,
}

/// A required-reading ladder. Absent fields take the default; `remind_before_minutes: null`
/// sends no reminder. A deadline nearer than the reminder's lead is reminded halfway.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LadderBody {
    /// Minutes before `read_by` that the reminder goes to those who have not read (10 to
    /// 43200; default 1440); null: no reminder.
    #[serde(default = "default_remind_before")]
    #[schema(minimum = 10, maximum = 43200)]
    pub remind_before_minutes: Option<i32>,
    /// An urgent push to those who have not read at the deadline (default true).
    #[serde(default = "yes")]
    pub urgent: bool,
    /// Each unit's non-readers listed to its secretary at the deadline (default true).
    #[serde(default = "yes")]
    pub summary: bool,
}

fn yes() -> bool {
    true
}

/// Absent: the default lead (an explicit `null` is no reminder).
fn default_remind_before() -> Option<i32> {
    Ladder::default().remind_before_minutes
}

impl From<LadderBody> for Ladder {
    fn from(b: LadderBody) -> Self {
        Ladder {
            remind_before_minutes: b.remind_before_minutes,
            urgent: b.urgent,
            summary: b.summary,
        }
    }
}

impl From<Ladder> for LadderBody {
    fn from(l: Ladder) -> Self {
        LadderBody {
            remind_before_minutes: l.remind_before_minutes,
            urgent: l.urgent,
            summary: l.summary,
        }
    }
}

/// A step of a broadcast's ladder: when it is due, and once it ran, when and to how many.
#[derive(Debug, Serialize, ToSchema)]
pub struct LadderStepBody {
    #[schema(value_type = super::enums::LadderStepSchema)]
    pub step: Step,
    #[schema(value_type = super::enums::LadderStepStateSchema)]
    pub state: StepState,
    pub due_at: DateTime<Utc>,
    pub ran_at: Option<DateTime<Utc>>,
    /// Active members who had not read it when the step ran.
    pub unread: Option<i64>,
    /// Reminder pushes queued, or (the summary) secretaries written to.
    pub pushes: Option<i64>,
    /// The summary's units with their non-readers' count and who was told.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<SummaryUnitBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryUnitBody {
    /// Null: members without a unit.
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub unit: String,
    pub unread: i64,
    /// The members the list went to (the unit's secretaries, the nearest up the tree, or the
    /// broadcast's author); empty when nobody could be told.
    #[schema(value_type = Vec<String>)]
    pub secretaries: Vec<Id>,
}

impl From<StepView> for LadderStepBody {
    fn from(s: StepView) -> Self {
        LadderStepBody {
            step: s.step,
            state: s.state,
            due_at: s.due_at,
            ran_at: s.ran_at,
            unread: s.unread,
            pushes: s.pushes,
            units: s
                .units
                .into_iter()
                .map(|u| SummaryUnitBody {
                    unit_id: u.unit_id.map(Id),
                    unit: u.unit,
                    unread: u.unread,
                    secretaries: u.secretaries.into_iter().map(Id).collect(),
                })
                .collect(),
        }
    }
}

/// A change to a scheduled broadcast (one whose next occurrence has not started). Absent
/// fields stay as they are; `recurrence: null` makes it a one-off at `send_at`, `read_by: null`
/// removes the deadline.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBroadcastRequest {
    pub post_id: Option<IdIn>,
    pub audience: Option<AudienceBody>,
    #[schema(value_type = Option<Vec<super::enums::ChannelSchema>>, max_items = 3)]
    pub channels: Option<Vec<String>>,
    pub send_at: Option<DateTime<FixedOffset>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub recurrence: Option<Option<String>>,
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub read_by: Option<Option<DateTime<FixedOffset>>>,
    /// A new ladder for the deadline (absent: kept).
    pub ladder: Option<LadderBody>,
    pub urgent: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelStatsBody {
    pub sent: u64,
    pub failed: u64,
    pub skipped: u64,
    pub pending: u64,
    /// Pushes whose outcome is unknown: a worker died after handing them to the platform
    /// (they are not resent, to avoid duplicates).
    pub unknown: u64,
}

impl From<ChannelStats> for ChannelStatsBody {
    fn from(c: ChannelStats) -> Self {
        Self {
            sent: c.sent,
            failed: c.failed,
            skipped: c.skipped,
            pending: c.pending,
            unknown: c.unknown,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushStatsBody {
    pub wechat: ChannelStatsBody,
    pub wecom: ChannelStatsBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsBody {
    pub recipients: u64,
    pub delivered: u64,
    pub read: u64,
    pub unread: u64,
    pub push: PushStatsBody,
}

impl From<Stats> for StatsBody {
    fn from(s: Stats) -> Self {
        Self {
            recipients: s.recipients,
            delivered: s.delivered,
            read: s.read,
            unread: s.unread,
            push: PushStatsBody {
                wechat: s.push.wechat.into(),
                wecom: s.push.wecom.into(),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BroadcastResponse {
    #[schema(value_type = String)]
    pub id: Id,
    /// The unit the broadcast belongs to; null: the whole organisation (an admin's).
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    #[schema(value_type = String)]
    pub post_id: Id,
    /// The post's title.
    pub title: String,
    /// scheduled, sending, sent, canceled or failed
    #[schema(value_type = super::enums::BroadcastStatusSchema)]
    pub status: Status,
    pub audience: AudienceBody,
    #[schema(value_type = Vec<super::enums::ChannelSchema>)]
    pub channels: Vec<Channel>,
    pub send_at: DateTime<Utc>,
    /// The occurrence that is due or being sent; null once nothing is left to send.
    pub next_run_at: Option<DateTime<Utc>>,
    /// The RRULE of a recurring broadcast.
    pub recurrence: Option<String>,
    /// Occurrences fanned out so far (1 for a one-off that was sent).
    pub occurrences_sent: i64,
    /// The next occurrences of the rule (detail view only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upcoming: Vec<DateTime<Utc>>,
    pub timezone: String,
    pub read_by: Option<DateTime<Utc>>,
    /// The ladder of a broadcast with a deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ladder: Option<LadderBody>,
    /// The ladder's steps: planned, and what ran, when, to how many (detail view only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ladder_steps: Vec<LadderStepBody>,
    pub urgent: bool,
    /// Members the audience selects (counted when created or last edited).
    pub audience_size: i64,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<StatsBody>,
}

impl BroadcastResponse {
    pub fn new(b: BroadcastView, stats: Option<Stats>) -> Self {
        Self {
            id: Id(b.id),
            unit_id: b.unit_id.map(Id),
            post_id: Id(b.post_id),
            title: b.title,
            status: b.status,
            audience: AudienceBody::from_core(&b.audience),
            channels: b.channels,
            send_at: b.send_at,
            next_run_at: b.next_run_at,
            recurrence: b.recurrence,
            occurrences_sent: b.occurrences_sent,
            upcoming: b.upcoming,
            timezone: b.timezone,
            read_by: b.read_by,
            ladder: b.ladder.map(Into::into),
            ladder_steps: b.steps.into_iter().map(Into::into).collect(),
            urgent: b.urgent,
            audience_size: b.audience_size,
            created_at: b.created_at,
            sent_at: b.sent_at,
            stats: stats.map(Into::into),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BroadcastQuery {
    /// scheduled, sending, sent, canceled or failed
    #[param(value_type = Option<super::enums::BroadcastStatusSchema>)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RecipientQuery {
    /// read, unread or failed
    #[param(value_type = Option<super::enums::RecipientStateSchema>)]
    pub state: Option<String>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(max_length = 64)]
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientResponse {
    #[schema(value_type = String)]
    pub member_id: Id,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub unit_id: Option<Id>,
    pub delivered_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The pushes to this member (every channel and reminder round), with the last error of
    /// those that failed.
    pub push: Vec<crate::dto::push::DeliveryResponse>,
}

impl RecipientResponse {
    pub fn new(
        r: RecipientView,
        push: Vec<fingertip_core::push::deliveries::DeliveryView>,
    ) -> Self {
        Self {
            member_id: Id(r.member_id),
            name: r.name,
            unit_id: r.unit_id.map(Id),
            delivered_at: r.delivered_at,
            read_at: r.read_at,
            push: push.into_iter().map(Into::into).collect(),
        }
    }
}
