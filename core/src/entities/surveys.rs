//! An evaluation survey (migration m0020): what is asked, of whom, until when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "surveys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The unit it belongs to (whose managers run it); `None` is organisation-wide.
    pub unit_id: Option<i64>,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub intro: String,
    pub questions: crate::surveys::Questions,
    /// Who is asked, as chosen; fixed into `survey_participants` when published.
    pub audience: crate::audience::Audience,
    /// Results are shown for a question only with at least this many answers (never below 5).
    pub min_group: i32,
    pub closes_at: DateTimeUtc,
    pub status: crate::surveys::SurveyStatus,
    pub post_id: Option<i64>,
    pub broadcast_id: Option<i64>,
    pub published_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// The last reminder to those who have not answered (by hand or the worker's).
    pub reminded_at: Option<DateTimeUtc>,
    /// The worker's reminder a day before the close has gone out.
    pub auto_reminded: bool,
    /// Closed and every ballot rewritten in one transaction (see `surveys::seal`).
    pub sealed: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
