//! The member's side: the surveys they are asked, and answering one, once.
//!
//! Answering marks the member's participant row and writes a ballot in one transaction, so a
//! crash keeps both or neither. The ballot carries no member, unit or time, its key is random,
//! and nothing written alongside it (the audit entry, the logs, the metrics) names it or what it
//! says. The answer's own transaction is the one remaining trace; `seal` removes it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::model::check_answers;
use super::{Question, SurveyStatus, random_key, status_at};
use crate::Core;
use crate::audit::{self, Event};
use crate::auth::Actor;
use crate::entities::{survey_ballots, survey_participants, surveys};
use crate::error::{CoreError, CoreResult, Violations};

/// Surveys a member's list returns, at most.
pub const MY_LIMIT: u64 = 50;

/// A survey as the member asked sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySurvey {
    pub id: i64,
    pub title: String,
    pub intro: String,
    pub questions: Vec<Question>,
    pub closes_at: DateTime<Utc>,
    pub status: SurveyStatus,
    pub answered: bool,
    /// The notice it came with (the inbox item's post).
    pub post_id: Option<i64>,
}

fn mine_of(s: surveys::Model, answered: bool, now: DateTime<Utc>) -> MySurvey {
    MySurvey {
        status: status_at(&s, now),
        id: s.id,
        title: s.title,
        intro: s.intro,
        questions: s.questions.0,
        closes_at: s.closes_at,
        answered,
        post_id: s.post_id,
    }
}

/// The surveys the member is asked, the open ones first, then by close, latest first.
pub async fn mine(core: &Core, actor: &Actor) -> CoreResult<Vec<MySurvey>> {
    let asked: Vec<(i64, bool)> = survey_participants::Entity::find()
        .select_only()
        .column(survey_participants::Column::SurveyId)
        .column(survey_participants::Column::Answered)
        .filter(survey_participants::Column::MemberId.eq(actor.member_id))
        .into_tuple()
        .all(&core.db)
        .await?;
    if asked.is_empty() {
        return Ok(vec![]);
    }
    let rows = surveys::Entity::find()
        .filter(surveys::Column::Id.is_in(asked.iter().map(|(id, _)| *id)))
        .order_by_desc(surveys::Column::ClosesAt)
        .limit(MY_LIMIT)
        .all(&core.db)
        .await?;
    let now = core.now();
    let mut out: Vec<MySurvey> = rows
        .into_iter()
        .map(|s| {
            let answered = asked.iter().any(|(id, a)| *id == s.id && *a);
            mine_of(s, answered, now)
        })
        .collect();
    out.sort_by_key(|s| {
        (
            s.status != SurveyStatus::Open,
            std::cmp::Reverse(s.closes_at),
        )
    });
    Ok(out)
}

/// One survey the member is asked (404 for anyone else).
pub async fn get(core: &Core, actor: &Actor, id: i64) -> CoreResult<MySurvey> {
    let p = survey_participants::Entity::find_by_id((id, actor.member_id))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("survey"))?;
    let s = surveys::Entity::find_by_id(id)
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("survey"))?;
    Ok(mine_of(s, p.answered, core.now()))
}

/// Answers a survey, once (audited `survey.answer`, which names the survey and the member and
/// nothing of the ballot). A second answer is 409: a phone that lost the first reply may take it
/// as done.
pub async fn answer(
    core: &Core,
    actor: &Actor,
    id: i64,
    raw: &[serde_json::Value],
) -> CoreResult<()> {
    let asked = survey_participants::Entity::find_by_id((id, actor.member_id))
        .one(&core.db)
        .await?
        .ok_or(CoreError::NotFound("survey"))?;
    let now = core.now();
    let txn = crate::db::begin_write(&core.db).await?;
    // Shared with other answers, exclusive with a seal or a close (`manage::lock`).
    let mut q = surveys::Entity::find_by_id(id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_shared();
    }
    let s = q.one(&txn).await?.ok_or(CoreError::NotFound("survey"))?;
    if status_at(&s, now) != SurveyStatus::Open {
        return Err(CoreError::Conflict("the survey has closed".into()));
    }
    if asked.answered {
        return Err(CoreError::Conflict(
            "you have already answered this survey".into(),
        ));
    }
    let mut v = Violations::new();
    let answers = check_answers(&s.questions.0, raw, &mut v);
    v.finish()?;
    let marked = survey_participants::Entity::update_many()
        .col_expr(survey_participants::Column::Answered, Expr::value(true))
        .filter(survey_participants::Column::SurveyId.eq(id))
        .filter(survey_participants::Column::MemberId.eq(actor.member_id))
        .filter(survey_participants::Column::Answered.eq(false))
        .exec(&txn)
        .await?
        .rows_affected;
    if marked == 0 {
        return Err(CoreError::Conflict(
            "you have already answered this survey".into(),
        ));
    }
    survey_ballots::ActiveModel {
        survey_id: Set(id),
        id: Set(random_key()),
        answers: Set(answers),
        sealed: Set(false),
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        now,
        &actor.into(),
        Event::new("survey.answer").target("survey", id),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
