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
