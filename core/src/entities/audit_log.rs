use sea_orm::entity::prelude::*;

/// One entry of the audit chain: who did what to which object, when, and the hash that links
/// it to the entry before (`hash = sha256(prev_hash || canonical entry)`, see `core::audit`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The position in the chain: 1, 2, 3, … with no gap.
    pub seq: i64,
    pub at: DateTimeUtc,
    /// `None` for an anonymous caller (a failed login) or the system.
    pub actor_member_id: Option<i64>,
    pub actor_role: Option<String>,
    /// `broadcast.cancel`, `member.update`, `auth.login_failed`, …
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// Canonical JSON of what changed (stored as text so that the hashed bytes are kept).
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
