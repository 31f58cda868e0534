//! Anonymous evaluation surveys (DOMAIN.md: all members evaluate the branch's work, 测评).
//!
//! An admin or a secretary writes a survey (single and multiple choice, a rating such as
//! 优秀/良好/一般/差, free text), picks who is asked and until when, and publishes it: the
//! people asked are fixed then, and a notice goes to their inboxes and phones. Each answers
//! once. Who took part and what was answered are kept apart so that nobody with the database
//! can join them:
//!
//! - `survey_participants` says who was asked and whether they answered, without time;
//! - `survey_ballots` says what was answered, without member, unit or time, under a random key;
//! - `seal` rewrites ballots in shuffled batches, so that the database's own bookkeeping of
//!   which transaction wrote a row stops pointing at the answer's;
//! - results are shown only once the survey has closed, and per question only with at least
//!   `min_group` answers (never fewer than 5).
//!
//! The modules: `model` (questions and ballots, and their checks), `manage` (writing,
//! publishing, closing, reminding; participation per unit), `answer` (the member's side),
//! `results` (the tallies and their CSV), `seal`, `worker` (the reminder a day before the close,
//! the seals). docs/surveys.md states the rules and the argument.

pub mod answer;
pub mod manage;
mod model;
pub mod results;
pub mod seal;
pub mod worker;

pub use model::{
    AnswerValue, Answers, DEFAULT_SCALE, MIN_GROUP, Question, QuestionKind, Questions, SurveyStatus,
};

use chrono::{DateTime, Utc};

use crate::Core;
use crate::auth::Actor;
use crate::entities::surveys;
use crate::error::{CoreError, CoreResult};
use crate::org::UnitTree;
use sea_orm::EntityTrait;

/// Where a survey stands now: an open survey past its close is closed.
pub fn status_at(s: &surveys::Model, now: DateTime<Utc>) -> SurveyStatus {
    match s.status {
        SurveyStatus::Open if now >= s.closes_at => SurveyStatus::Closed,
        st => st,
    }
}

/// The survey, if the actor manages its unit (an organisation-wide one: admins); else 404.
pub(crate) async fn managed(
    core: &Core,
    actor: &Actor,
    tree: &UnitTree,
    id: i64,
) -> CoreResult<surveys::Model> {
    crate::access::require_manager(actor)?;
    surveys::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .filter(|s| tree.scope_of(actor).allows_unit(s.unit_id))
        .ok_or(CoreError::NotFound("survey"))
}

/// 32 random hex digits: a ballot's key.
pub(crate) fn random_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
