use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcasts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub post_id: i64,
    pub audience: Json,
    pub channels: Json,
    pub status: String,
    pub send_at: DateTimeUtc,
    pub timezone: String,
    pub read_by: Option<DateTimeUtc>,
    pub urgent: bool,
    pub audience_size: i64,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// The worker holding the fan-out lease, while one does.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    /// The last member id fanned out; a worker taking over resumes after it.
    pub fanout_cursor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
