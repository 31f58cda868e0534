//! A member's feedback to a unit (migration m0021): a thread. An anonymous one names no member
//! and keeps days, not moments (docs/feedback.md).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The unit it is addressed to: whose managers read and answer it.
    pub unit_id: i64,
    /// The writer; `None` when anonymous.
    pub member_id: Option<i64>,
    /// SHA-256 (hex) of the anonymous writer's key; `None` when named.
    pub key_hash: Option<String>,
    pub topic: String,
    pub state: crate::feedback::State,
    /// When written (an anonymous thread: the start of that day in the organisation's zone).
    pub created_at: DateTimeUtc,
    /// Since when it waits for an answer (open), as precise as `created_at`; `None` otherwise.
    pub waiting_since: Option<DateTimeUtc>,
    /// The secretaries were reminded of it in this wait.
    pub reminded_at: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
