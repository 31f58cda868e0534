//! Sealing ballots: rewriting them, shuffled and under new random keys, in one transaction.
//!
//! No column ties a ballot to its member, but the database itself remembers which transaction
//! wrote a row, and in what order rows came: PostgreSQL's `xmin` is the same on the ballot and on
//! the participant row the answer marked, and a table's physical order follows the writes. A seal
//! deletes a set of ballots and writes them again in random order in one transaction, so that
//! they share one `xmin` and their order says nothing; on PostgreSQL a `VACUUM` then drops the
//! old versions. A survey's unsealed ballots are sealed together once there are at least
//! `min_group` of them (so a sealed batch never names fewer people than a result may), and all
//! of its ballots once more when it closes. docs/surveys.md gives the argument and what remains.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    FromQueryResult, QueryFilter, QuerySelect, Set,
};

use super::{SurveyStatus, random_key, status_at};
use crate::Core;
use crate::entities::{survey_ballots, surveys};
use crate::error::CoreResult;

const CHUNK: usize = 500;

/// Rewrites the survey's ballots (only the unsealed ones when `only_unsealed`) shuffled, under
/// new keys, marked sealed, in `txn`, which holds the survey's row lock (`manage::lock`);
/// how many.
pub(crate) async fn reseal(
    txn: &DatabaseTransaction,
    survey_id: i64,
    only_unsealed: bool,
) -> CoreResult<usize> {
    let mut q =
        survey_ballots::Entity::find().filter(survey_ballots::Column::SurveyId.eq(survey_id));
    if only_unsealed {
        q = q.filter(survey_ballots::Column::Sealed.eq(false));
    }
    let ballots = q.all(txn).await?;
    if ballots.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = ballots.iter().map(|b| b.id.clone()).collect();
    for chunk in ids.chunks(CHUNK) {
        survey_ballots::Entity::delete_many()
            .filter(survey_ballots::Column::SurveyId.eq(survey_id))
            .filter(survey_ballots::Column::Id.is_in(chunk.iter().cloned()))
            .exec(txn)
            .await?;
    }
    // New random keys, written in the order of those keys: a uniform shuffle.
    let mut fresh: Vec<survey_ballots::ActiveModel> = ballots
        .into_iter()
        .map(|b| survey_ballots::ActiveModel {
            survey_id: Set(survey_id),
            id: Set(random_key()),
            answers: Set(b.answers),
            sealed: Set(true),
        })
        .collect();
    fresh.sort_by(|a, b| a.id.as_ref().cmp(b.id.as_ref()));
    let n = fresh.len();
    let mut rest = fresh;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(CHUNK));
        survey_ballots::Entity::insert_many(rest)
            .exec_without_returning(txn)
            .await?;
        rest = tail;
    }
    Ok(n)
}

/// On PostgreSQL, drops the ballots' old row versions (a seal's deletes) now rather than at the
/// next autovacuum. Outside any transaction; a failure only delays it.
pub(crate) async fn vacuum(core: &Core) {
    if core.db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    if let Err(e) = core.db.execute_unprepared("VACUUM survey_ballots").await {
        tracing::warn!(error = %e, "vacuum of survey_ballots after a seal failed; autovacuum will do it");
    }
}

#[derive(Debug, FromQueryResult)]
struct Unsealed {
    survey_id: i64,
    n: i64,
}

/// Seals what is due: every survey that has closed and is not sealed yet (all its ballots), and
/// every open survey with at least `min_group` unsealed ballots (those). How many surveys.
pub async fn seal_due(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    let closing: Vec<i64> = surveys::Entity::find()
        .select_only()
        .column(surveys::Column::Id)
        .filter(surveys::Column::Sealed.eq(false))
        .filter(surveys::Column::Status.ne(SurveyStatus::Draft))
        .filter(
            sea_orm::Condition::any()
                .add(surveys::Column::Status.eq(SurveyStatus::Closed))
                .add(surveys::Column::ClosesAt.lte(now)),
        )
        .into_tuple()
        .all(&core.db)
        .await?;
    let unsealed = survey_ballots::Entity::find()
        .select_only()
        .column(survey_ballots::Column::SurveyId)
        .column_as(Expr::col(survey_ballots::Column::Id).count(), "n")
        .filter(survey_ballots::Column::Sealed.eq(false))
        .group_by(survey_ballots::Column::SurveyId)
        .into_model::<Unsealed>()
        .all(&core.db)
        .await?;
    let mut done = 0;
    for id in closing {
        let txn = crate::db::begin_write(&core.db).await?;
        let s = super::manage::lock(&txn, id).await?;
        if s.sealed || status_at(&s, now) != SurveyStatus::Closed {
            continue;
        }
        reseal(&txn, id, false).await?;
        surveys::Entity::update_many()
            .col_expr(surveys::Column::Sealed, Expr::value(true))
            .col_expr(surveys::Column::Status, Expr::value(SurveyStatus::Closed))
            .col_expr(
                surveys::Column::ClosedAt,
                Expr::value(s.closed_at.unwrap_or(s.closes_at)),
            )
            .filter(surveys::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        done += 1;
    }
    for u in unsealed {
        let txn = crate::db::begin_write(&core.db).await?;
        let s = super::manage::lock(&txn, u.survey_id).await?;
        // A closed survey's ballots were all sealed just now, or are by the close's seal.
        if s.sealed || u.n < i64::from(s.min_group) {
            continue;
        }
        reseal(&txn, u.survey_id, true).await?;
        txn.commit().await?;
        done += 1;
    }
    if done > 0 {
        vacuum(core).await;
    }
    Ok(done)
}
