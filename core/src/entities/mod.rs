//! sea-orm entities: one file a table, rows only. Behaviour lives in the services.

pub mod audit_head;
pub mod audit_log;
pub mod broadcasts;
pub mod inbox_items;
pub mod meeting_broadcasts;
pub mod meeting_invitees;
pub mod meeting_series;
pub mod meetings;
pub mod member_tags;
pub mod members;
pub mod posts;
pub mod push_deliveries;
pub mod push_templates;
pub mod refresh_tokens;
pub mod sessions;
pub mod units;
pub mod wechat_credits;
