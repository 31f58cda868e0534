//! What became of each row, and writing it down: the outcome of a send (or of a decision made
//! without one) turned into the row's next state, written for a whole unit in one transaction,
//! counted in the pass report and in `fingertip_push_sends_total`.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::config::SendConfig;
use super::{Row, Sender};
use crate::entities::push_deliveries;
use crate::error::CoreResult;
use crate::push::DeliveryStatus;
use fingertip_platform::{Disposition, PushFailure};

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub claimed: usize,
    pub sent: usize,
    pub skipped: usize,
    pub retried: usize,
    pub dead: usize,
    pub deferred: usize,
    pub unknown: usize,
}

impl PassReport {
    fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Sent { .. } => self.sent += 1,
            Outcome::Skip { .. } | Outcome::NoConsent { .. } => self.skipped += 1,
            Outcome::Retry { .. } | Outcome::NotSent { .. } => self.retried += 1,
            Outcome::Dead { .. } => self.dead += 1,
            Outcome::InDoubt { .. } => self.unknown += 1,
        }
    }

    pub(super) fn merge(&mut self, o: PassReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.skipped += o.skipped;
        self.retried += o.retried;
        self.dead += o.dead;
        self.deferred += o.deferred;
        self.unknown += o.unknown;
    }
}

#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Sent {
        msgid: String,
    },
    /// Not sent, by design (reason).
    Skip {
        reason: String,
    },
    NoConsent {
        code: Option<i64>,
        message: String,
    },
    Retry {
        code: Option<i64>,
        message: String,
        tomorrow: bool,
    },
    Dead {
        code: Option<i64>,
        message: String,
    },
    /// The request left but no answer came back (timeout, broken reply): it may have arrived,
    /// so it is not sent again.
    InDoubt {
        message: String,
    },
    /// Nothing left this process (no token could be had): try again soon, without counting
    /// the attempt.
    NotSent {
        message: String,
    },
}

impl Outcome {
    pub(super) fn of_failure(f: &PushFailure) -> Self {
        let (code, message) = (f.errcode, f.message.clone());
        match f.disposition {
            Disposition::Retry => Outcome::Retry {
                code,
                message,
                tomorrow: false,
            },
            Disposition::RetryTomorrow => Outcome::Retry {
                code,
                message,
                tomorrow: true,
            },
            Disposition::NoConsent => Outcome::NoConsent { code, message },
            Disposition::Permanent => Outcome::Dead { code, message },
            Disposition::InDoubt => Outcome::InDoubt { message },
            Disposition::NotSent => Outcome::NotSent { message },
        }
    }

    /// `Dead` with a message and no platform code.
    pub(super) fn dead(message: impl Into<String>) -> Self {
        Outcome::Dead {
            code: None,
            message: message.into(),
        }
    }
}

/// The row's next state for an outcome.
struct Change {
    status: DeliveryStatus,
    next_attempt_at: Option<DateTime<Utc>>,
    code: Option<i64>,
    error: Option<String>,
    msgid: Option<String>,
}

impl Change {
    fn to(status: DeliveryStatus, code: Option<i64>, error: Option<String>) -> Self {
        Self {
            status,
            next_attempt_at: None,
            code,
            error,
            msgid: None,
        }
    }

    fn of(cfg: &SendConfig, row: &Row, outcome: &Outcome, now: DateTime<Utc>) -> Self {
        match outcome {
            Outcome::Sent { msgid } => Self {
                msgid: Some(msgid.clone()),
                ..Self::to(DeliveryStatus::Sent, None, None)
            },
            Outcome::Skip { reason } => {
                Self::to(DeliveryStatus::Skipped, None, Some(reason.clone()))
            }
            Outcome::NoConsent { code, message } => Self::to(
                DeliveryStatus::Skipped,
                *code,
                Some(format!("no_consent: {message}")),
            ),
            Outcome::Retry {
                code,
                message,
                tomorrow,
            } => {
                if row.attempts >= cfg.max_attempts {
                    Self::to(
                        DeliveryStatus::Dead,
                        *code,
                        Some(format!(
                            "retries exhausted after {} attempts: {message}",
                            row.attempts
                        )),
                    )
                } else {
                    let at = if *tomorrow {
                        cfg.after_daily_reset(now)
                    } else {
                        now + cfg.backoff(row.attempts)
                    };
                    Self {
                        next_attempt_at: Some(at),
                        ..Self::to(DeliveryStatus::Pending, *code, Some(message.clone()))
                    }
                }
            }
            Outcome::Dead { code, message } => {
                Self::to(DeliveryStatus::Dead, *code, Some(message.clone()))
            }
            Outcome::InDoubt { message } => Self::to(
                DeliveryStatus::Unknown,
                None,
                Some(format!(
                    "outcome_unknown: the request left but no answer came back ({message}); not sent again to avoid a duplicate"
                )),
            ),
            Outcome::NotSent { message } => Self {
                next_attempt_at: Some(now + Duration::seconds(30)),
                ..Self::to(
                    DeliveryStatus::Pending,
                    None,
                    Some(format!("not sent: {message}")),
                )
            },
        }
    }
}

impl Sender {
    /// Writes the outcomes of one unit in one transaction. `sending` says whether the rows
    /// were marked `sending` (sent units) or are still `pending` (decided without a send).
    pub(super) async fn record(
        &self,
        outcomes: &[(Row, Outcome)],
        report: &mut PassReport,
        sending: bool,
    ) -> CoreResult<()> {
        let now = self.now();
        let from = if sending {
            DeliveryStatus::Sending
        } else {
            DeliveryStatus::Pending
        };
        let txn = crate::db::begin_write(&self.core.db).await?;
        let mut counted: Vec<(String, &'static str)> = Vec::with_capacity(outcomes.len());
        for (row, outcome) in outcomes {
            let c = Change::of(&self.cfg, row, outcome, now);
            let mut q = push_deliveries::Entity::update_many()
                .col_expr(
                    push_deliveries::Column::Status,
                    Expr::value(c.status.as_str()),
                )
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(push_deliveries::Column::LastErrorCode, Expr::value(c.code))
                .col_expr(push_deliveries::Column::LastError, Expr::value(c.error))
                .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now));
            if let Some(at) = c.next_attempt_at {
                q = q.col_expr(push_deliveries::Column::NextAttemptAt, Expr::value(at));
            }
            // Nothing left this process: the attempt counted when the row was marked
            // `sending` is taken back.
            if matches!(outcome, Outcome::NotSent { .. }) && sending {
                q = q.col_expr(
                    push_deliveries::Column::Attempts,
                    Expr::col(push_deliveries::Column::Attempts).sub(1),
                );
            }
            if let Some(m) = c.msgid {
                q = q
                    .col_expr(push_deliveries::Column::Msgid, Expr::value(m))
                    .col_expr(push_deliveries::Column::SentAt, Expr::value(now));
            }
            let r = q
                .filter(push_deliveries::Column::Id.eq(row.id))
                .filter(push_deliveries::Column::LeaseOwner.eq(&self.worker))
                .filter(push_deliveries::Column::Status.eq(from.as_str()))
                .exec(&txn)
                .await?;
            if r.rows_affected == 0 {
                tracing::warn!(
                    worker = %self.worker,
                    delivery.id = row.id,
                    outcome = ?outcome,
                    "a push outcome could not be recorded: the row's lease was lost meanwhile"
                );
            } else {
                counted.push((row.channel.to_string(), c.status.as_str()));
            }
            report.add(outcome);
        }
        txn.commit().await?;
        for (channel, status) in counted {
            metrics::counter!(crate::metrics::PUSH_SENDS, "channel" => channel, "outcome" => status)
                .increment(1);
        }
        Ok(())
    }

    /// Records every row as `dead` with the same message, without a send.
    pub(super) async fn dead_all(
        &self,
        rows: Vec<Row>,
        message: &str,
        report: &mut PassReport,
    ) -> CoreResult<()> {
        let out: Vec<_> = rows
            .into_iter()
            .map(|r| (r, Outcome::dead(message)))
            .collect();
        self.record(&out, report, false).await
    }
}
