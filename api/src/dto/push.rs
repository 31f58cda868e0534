use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fingertip_core::push::deliveries::DeliveryView;
use fingertip_core::push::templates::{Source, TemplateConfig};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What `wx.requestSubscribeMessage` returned: template id → `accept`, `reject`, `ban`,
/// `filter`, `acceptWithAlert`, ... Every value starting with `accept` adds one send credit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionsRequest {
    pub results: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreditsResponse {
    /// Template id → sends the member still allows.
    pub credits: BTreeMap<String, i64>,
}

/// The subscribe template of one kind: `fields` maps template keywords to what they show
/// (`title`, `summary`, `time`, `location`, `sender`, `kind`, `deadline`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_-]+$")]
    pub template_id: String,
    /// Mini-program page; `{item_id}` becomes the member's inbox item id.
    #[schema(min_length = 1, max_length = 256)]
    pub page: Option<String>,
    #[schema(value_type = BTreeMap<String, super::enums::SourceSchema>)]
    pub fields: BTreeMap<String, Source>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateResponse {
    /// lesson, notice, announcement, disclosure, classroom, meeting, or reminder (used for
    /// reminders of any kind when set).
    #[schema(value_type = super::enums::TemplateKindSchema)]
    pub kind: fingertip_core::push::templates::TemplateKind,
    pub template_id: String,
    pub page: Option<String>,
    #[schema(value_type = BTreeMap<String, super::enums::SourceSchema>)]
    pub fields: BTreeMap<String, Source>,
    pub updated_at: DateTime<Utc>,
}

impl From<TemplateConfig> for TemplateResponse {
    fn from(t: TemplateConfig) -> Self {
        Self {
            kind: t.kind,
            template_id: t.template_id,
            page: t.page,
            fields: t.fields,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateResponse>,
}

/// One push to a recipient: `status` is pending, sending, sent, skipped, dead or unknown.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// wechat or wecom
    #[schema(value_type = super::enums::PushChannelSchema)]
    pub channel: fingertip_core::broadcasts::Channel,
    /// 0 for the broadcast itself, n for the n-th reminder.
    pub round: i32,
    #[schema(value_type = super::enums::DeliveryStatusSchema)]
    pub status: fingertip_core::push::DeliveryStatus,
    pub attempts: i32,
    pub last_error_code: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<DeliveryView> for DeliveryResponse {
    fn from(d: DeliveryView) -> Self {
        Self {
            channel: d.channel,
            round: d.round,
            status: d.status,
            attempts: d.attempts,
            last_error_code: d.last_error_code,
            last_error: d.last_error,
            sent_at: d.sent_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RemindResponse {
    /// The reminder's round (1 for the first reminder).
    pub round: i32,
    /// Members who have not read and get the reminder.
    pub reminded: u64,
}

/// A member's push preferences as they apply (times in `timezone`, `HH:MM`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PushPreferences {
    /// Whether quiet hours apply: non-urgent pushes wait until they end.
    pub quiet: bool,
    /// The quiet hours that apply (the member's own, or the organisation's): null when off.
    pub quiet_from: Option<String>,
    pub quiet_until: Option<String>,
    /// The member set their own quiet hours (or turned them off).
    pub quiet_own: bool,
    /// On assignment away from the office: non-urgent pushes come as one digest a day.
    pub off_site: bool,
    /// When the daily digest goes.
    pub digest_at: String,
    /// The next digest, while off-site.
    pub next_digest_at: Option<DateTime<Utc>>,
    pub timezone: String,
}

impl From<fingertip_core::push::quiet::PrefsView> for PushPreferences {
    fn from(v: fingertip_core::push::quiet::PrefsView) -> Self {
        PushPreferences {
            quiet: v.quiet,
            quiet_from: v.quiet_from,
            quiet_until: v.quiet_until,
            quiet_own: v.quiet_own,
            off_site: v.off_site,
            digest_at: v.digest_at,
            next_digest_at: v.next_digest_at,
            timezone: v.timezone,
        }
    }
}

/// A change to the caller's push preferences; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushPreferencesRequest {
    /// false: no quiet hours; true: quiet hours again.
    pub quiet: Option<bool>,
    /// Own quiet hours, `HH:MM` (24-hour), both together; they may cross midnight.
    #[schema(max_length = 5)]
    pub quiet_from: Option<String>,
    #[schema(max_length = 5)]
    pub quiet_until: Option<String>,
    pub off_site: Option<bool>,
    /// When the daily digest goes while off-site, `HH:MM`.
    #[schema(max_length = 5)]
    pub digest_at: Option<String>,
}
