//! The leases on delivery rows. A worker owns a row while `lease_owner` is its id and
//! `lease_until` is ahead; every write below is conditional on that (and on the status it
//! expects), so a worker that lost a row's lease never overwrites another's work.
//!
//! - `claim`: due `pending` rows get this worker's lease (one conditional `UPDATE`).
//! - `release`: claimed rows go back untouched (on stop).
//! - `defer`: claimed rows go back for later without counting an attempt.
//! - `mark_sending`: `pending` → `sending` with the attempt counted, before anything leaves.
//! - `recover_in_doubt`: `sending` rows whose lease ran out (their worker died mid-send)
//!   become `unknown`, never `pending`.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Row, Sender};
use crate::Core;
use crate::entities::push_deliveries;
use crate::error::CoreResult;
use crate::push::DeliveryStatus;

/// Rows changed per statement (SQLite allows a bounded number of bound values).
const ID_CHUNK: usize = 500;

/// A pending row this worker may claim: unleased, its lease run out, or leased to this very
/// worker. The last are rows a pass of this worker claimed and never marked `sending` (a pass
/// that failed midway, say while the database was down): passes of one worker run one after
/// another, so nothing of this worker holds them now, and they were not sent. Without this
/// they would wait out the whole lease after every outage.
fn lease_free(now: DateTime<Utc>, worker: &str) -> Condition {
    Condition::any()
        .add(push_deliveries::Column::LeaseUntil.is_null())
        .add(push_deliveries::Column::LeaseUntil.lt(now))
        .add(push_deliveries::Column::LeaseOwner.eq(worker))
}

/// Rows left `sending` by a worker whose lease ran out: it died after handing them to the
/// platform, so whether they arrived is unknown. They are not sent again.
pub async fn recover_in_doubt(core: &Core) -> CoreResult<u64> {
    let now = core.now();
    let r = push_deliveries::Entity::update_many()
        .col_expr(
            push_deliveries::Column::Status,
            Expr::value(DeliveryStatus::Unknown.as_str()),
        )
        .col_expr(
            push_deliveries::Column::LastError,
            Expr::value(
                "outcome_unknown: the worker stopped after handing this push to the platform; not sent again to avoid a duplicate",
            ),
        )
        .col_expr(push_deliveries::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            push_deliveries::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now))
        .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Sending.as_str()))
        .filter(push_deliveries::Column::LeaseUntil.lt(now))
        .exec(&core.db)
        .await?;
    if r.rows_affected > 0 {
        tracing::warn!(
            count = r.rows_affected,
            "pushes left in flight by a dead worker marked unknown (not resent)"
        );
    }
    Ok(r.rows_affected)
}

impl Sender {
    /// Claims up to `cfg.claim` due rows for this worker.
    pub(super) async fn claim(&self) -> CoreResult<Vec<Row>> {
        let now = self.now();
        let ids: Vec<i64> = push_deliveries::Entity::find()
            .select_only()
            .column(push_deliveries::Column::Id)
            .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(push_deliveries::Column::NextAttemptAt.lte(now))
            .filter(lease_free(now, &self.worker))
            .order_by_asc(push_deliveries::Column::NextAttemptAt)
            .order_by_asc(push_deliveries::Column::Id)
            .limit(self.cfg.claim)
            .into_tuple()
            .all(&self.core.db)
            .await?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut claimed = vec![];
        for chunk in ids.chunks(ID_CHUNK) {
            push_deliveries::Entity::update_many()
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(&self.worker),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(now + self.cfg.lease),
                )
                .filter(push_deliveries::Column::Id.is_in(chunk.to_vec()))
                .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .filter(lease_free(now, &self.worker))
                .exec(&self.core.db)
                .await?;
            claimed.extend(
                push_deliveries::Entity::find()
                    .filter(push_deliveries::Column::Id.is_in(chunk.to_vec()))
                    .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
                    .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                    .order_by_asc(push_deliveries::Column::Id)
                    .all(&self.core.db)
                    .await?,
            );
        }
        Ok(claimed)
    }

    /// Gives claimed rows back untouched (on stop).
    pub(super) async fn release(&self, ids: &[i64]) -> CoreResult<()> {
        for chunk in ids.chunks(ID_CHUNK) {
            push_deliveries::Entity::update_many()
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(push_deliveries::Column::Id.is_in(chunk.to_vec()))
                .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
                .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .exec(&self.core.db)
                .await?;
        }
        Ok(())
    }

    /// Puts rows back for later without counting an attempt (the WeCom per-member budget, a
    /// rate limiter outage), with `why` as their last error.
    pub(super) async fn defer(&self, rows: &[(i64, DateTime<Utc>)], why: &str) -> CoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let txn = crate::db::begin_write(&self.core.db).await?;
        for (id, at) in rows {
            push_deliveries::Entity::update_many()
                .col_expr(push_deliveries::Column::NextAttemptAt, Expr::value(*at))
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(push_deliveries::Column::LastError, Expr::value(why))
                .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now))
                .filter(push_deliveries::Column::Id.eq(*id))
                .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
                .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Marks rows `sending`, counting the attempt, before anything goes out; the lease is
    /// lengthened by `extra_lease` (the rate-limit wait) so that it covers the send. Returns
    /// the rows still ours, with their attempt counted (a lost lease drops a row).
    pub(super) async fn mark_sending(
        &self,
        rows: Vec<Row>,
        extra_lease: Duration,
    ) -> CoreResult<Vec<Row>> {
        let now = self.now();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let r = push_deliveries::Entity::update_many()
            .col_expr(
                push_deliveries::Column::Status,
                Expr::value(DeliveryStatus::Sending.as_str()),
            )
            .col_expr(
                push_deliveries::Column::Attempts,
                Expr::col(push_deliveries::Column::Attempts).add(1),
            )
            .col_expr(
                push_deliveries::Column::LeaseUntil,
                Expr::value(now + self.cfg.lease + extra_lease),
            )
            .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now))
            .filter(push_deliveries::Column::Id.is_in(ids.clone()))
            .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
            .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .exec(&self.core.db)
            .await?;
        let counted = |mut r: Row| {
            r.attempts += 1;
            r
        };
        if usize::try_from(r.rows_affected).ok() == Some(rows.len()) {
            return Ok(rows.into_iter().map(counted).collect());
        }
        let still: HashSet<i64> = push_deliveries::Entity::find()
            .select_only()
            .column(push_deliveries::Column::Id)
            .filter(push_deliveries::Column::Id.is_in(ids))
            .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
            .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Sending.as_str()))
            .into_tuple::<i64>()
            .all(&self.core.db)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .filter(|r| still.contains(&r.id))
            .map(counted)
            .collect())
    }

    /// Puts rows this worker marked `sending` back to `pending`, their attempt uncounted: for
    /// a unit that failed before anything left (the database went down in between), so that
    /// they are sent later instead of being taken for in doubt when the lease runs out.
    pub(super) async fn unmark_sending(&self, ids: &[i64]) -> CoreResult<()> {
        for chunk in ids.chunks(ID_CHUNK) {
            push_deliveries::Entity::update_many()
                .col_expr(
                    push_deliveries::Column::Status,
                    Expr::value(DeliveryStatus::Pending.as_str()),
                )
                .col_expr(
                    push_deliveries::Column::Attempts,
                    Expr::col(push_deliveries::Column::Attempts).sub(1),
                )
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(push_deliveries::Column::Id.is_in(chunk.to_vec()))
                .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
                .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Sending.as_str()))
                .exec(&self.core.db)
                .await?;
        }
        Ok(())
    }
}
