//! What a push worker does with due deliveries.
//!
//! 1. **Claim** due `pending` rows with a lease (a conditional `UPDATE`, so two workers never
//!    hold the same row), at most `claim` per pass.
//! 2. **Decide** per row without calling anyone: a canceled broadcast, an unbound member, no
//!    template, or no WeChat credit make it `skipped`; a WeCom member over the per-member budget
//!    (30 a minute, 1,000 an hour, beyond which WeCom drops silently) is put back for later.
//! 3. **Send** in chunks: a chunk is marked `sending` (and its attempt counted) in one
//!    transaction *before* anything goes out, then sent with bounded concurrency under the app's
//!    rate limit, then the answers are recorded in one transaction. A worker that dies between
//!    the two leaves `sending` rows whose lease runs out; they become `unknown` and are never
//!    sent again, because the platform may already have accepted them.
//! 4. **Record**: accepted → `sent` with the msgid (the WeChat credit was used when the row
//!    was marked `sending`; an answer that shows the message did not arrive gives it back, an
//!    unknown outcome keeps it used); 43101 →
//!    `skipped` and the credit set to 0; transient errors → `pending` again after an
//!    exponential backoff with jitter (45009: after the next daily reset), until
//!    `max_attempts`; permanent errors and exhausted retries → `dead`, with the last error.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::DeliveryStatus;
use super::templates::{self, Facts, TemplateConfig};
use crate::Core;
use crate::broadcasts::Status;
use crate::entities::{
    broadcasts, inbox_items, meeting_broadcasts, meetings, members, posts, push_deliveries,
    wechat_credits,
};
use crate::error::CoreResult;
use crate::ports::push::{Disposition, PushFailure, PushPlatform, WechatPush, WecomPush};
use crate::ports::rate_limit::{Limit, RateLimiter};

#[derive(Debug, Clone)]
pub struct SendConfig {
    /// Sends in flight at once, per worker.
    pub concurrency: usize,
    /// Rows claimed per pass.
    pub claim: u64,
    /// How long a claim holds; a worker that dies mid-send is noticed after this.
    pub lease: Duration,
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Subscribe messages per second, per mini-program, across all workers.
    pub wechat_rate: Limit,
    /// WeCom `message/send` calls per second, per app, across all workers.
    pub wecom_rate: Limit,
    pub wecom_per_minute: usize,
    pub wecom_per_hour: usize,
}

impl Default for SendConfig {
    fn default() -> Self {
        Self {
            concurrency: 64,
            claim: 1000,
            lease: Duration::seconds(120),
            max_attempts: 8,
            backoff_base: Duration::seconds(5),
            backoff_max: Duration::minutes(30),
            wechat_rate: Limit { per_sec: 1000 },
            wecom_rate: Limit { per_sec: 20 },
            wecom_per_minute: 30,
            wecom_per_hour: 1000,
        }
    }
}

/// Rows per "mark sending, send, record" chunk on WeChat.
const WECHAT_CHUNK: usize = 16;
/// WeCom takes at most 1,000 user ids per call.
const WECOM_CALL_MAX: usize = 1000;

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

    fn merge(&mut self, o: PassReport) {
        self.claimed += o.claimed;
        self.sent += o.sent;
        self.skipped += o.skipped;
        self.retried += o.retried;
        self.dead += o.dead;
        self.deferred += o.deferred;
        self.unknown += o.unknown;
    }
}

/// The sender of one worker.
pub struct Sender {
    pub core: Arc<Core>,
    pub platform: Arc<dyn PushPlatform>,
    pub limiter: Arc<dyn RateLimiter>,
    pub worker: String,
    pub cfg: SendConfig,
    /// Test hook: called after a chunk's sends came back and before their outcomes are
    /// recorded; returning `true` makes the sender stop there, as a killed worker would.
    pub crash_after_send: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

#[derive(Debug, Clone)]
enum Outcome {
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
    fn of_failure(f: &PushFailure) -> Self {
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
}

fn jitter_factor() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return 1.0;
    }
    0.5 + f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

impl SendConfig {
    /// base × 2^(attempts-1), capped, times a jitter in [0.5, 1.5].
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 20) - 1;
        let raw = self
            .backoff_base
            .num_milliseconds()
            .saturating_mul(1i64 << exp);
        let capped = Ord::min(raw, self.backoff_max.num_milliseconds());
        Duration::milliseconds((capped as f64 * jitter_factor()) as i64)
    }

    /// WeChat's daily quota resets at midnight Beijing time (the platform client knows when);
    /// try again a few minutes after it.
    pub fn after_daily_reset(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let reset = fingertip_wechat::next_daily_reset(now.timestamp());
        DateTime::from_timestamp(reset, 0).unwrap_or(now + Duration::days(1))
            + Duration::seconds((300.0 * jitter_factor()) as i64)
    }
}

fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(push_deliveries::Column::LeaseUntil.is_null())
        .add(push_deliveries::Column::LeaseUntil.lt(now))
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
    fn now(&self) -> DateTime<Utc> {
        self.core.now()
    }

    /// Claims up to `cfg.claim` due rows for this worker.
    pub async fn claim(&self) -> CoreResult<Vec<push_deliveries::Model>> {
        let now = self.now();
        let ids: Vec<i64> = push_deliveries::Entity::find()
            .select_only()
            .column(push_deliveries::Column::Id)
            .filter(push_deliveries::Column::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(push_deliveries::Column::NextAttemptAt.lte(now))
            .filter(lease_free(now))
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
        for chunk in ids.chunks(500) {
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
                .filter(lease_free(now))
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

    /// One pass: recover rows of dead workers, claim, send, record. `stop` is checked between
    /// chunks; unsent claimed rows are released.
    pub async fn pass(&self, stop: &(dyn Fn() -> bool + Sync)) -> CoreResult<PassReport> {
        let mut report = PassReport {
            unknown: recover_in_doubt(&self.core).await? as usize,
            ..Default::default()
        };
        let rows = self.claim().await?;
        report.claimed = rows.len();
        if rows.is_empty() {
            return Ok(report);
        }
        let (wechat, rest): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|r| r.channel == "wechat");
        let (wecom, other): (Vec<_>, Vec<_>) = rest.into_iter().partition(|r| r.channel == "wecom");
        if !other.is_empty() {
            let outcomes = other
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        Outcome::Dead {
                            code: None,
                            message: format!("unknown channel {:?}", r.channel),
                        },
                    )
                })
                .collect::<Vec<_>>();
            self.record(&outcomes, &mut report, false).await?;
        }
        let ctx = Context::load(&self.core, wechat.iter().chain(wecom.iter())).await?;
        if !wechat.is_empty() {
            self.wechat(wechat, &ctx, &mut report, stop).await?;
        }
        if !wecom.is_empty() {
            self.wecom(wecom, &ctx, &mut report, stop).await?;
        }
        Ok(report)
    }

    /// Gives claimed rows back untouched (on stop).
    async fn release(&self, ids: &[i64]) -> CoreResult<()> {
        for chunk in ids.chunks(500) {
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

    /// Marks rows `sending`, counting the attempt, before anything goes out. Returns the rows
    /// still ours (a lost lease drops a row from the chunk).
    async fn mark_sending(
        &self,
        rows: Vec<push_deliveries::Model>,
        extra_lease: Duration,
    ) -> CoreResult<Vec<push_deliveries::Model>> {
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
        if r.rows_affected as usize == rows.len() {
            return Ok(rows
                .into_iter()
                .map(|mut r| {
                    r.attempts += 1;
                    r
                })
                .collect());
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
            .map(|mut r| {
                r.attempts += 1;
                r
            })
            .collect())
    }

    /// Writes the outcomes of one chunk in one transaction. `sending` says whether the rows
    /// were marked `sending` (sent chunks) or are still `pending` (decided without a send).
    async fn record(
        &self,
        outcomes: &[(push_deliveries::Model, Outcome)],
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
            let (status, next, code, error, msgid) = match outcome {
                Outcome::Sent { msgid } => {
                    (DeliveryStatus::Sent, None, None, None, Some(msgid.clone()))
                }
                Outcome::Skip { reason } => (
                    DeliveryStatus::Skipped,
                    None,
                    None,
                    Some(reason.clone()),
                    None,
                ),
                Outcome::NoConsent { code, message } => (
                    DeliveryStatus::Skipped,
                    None,
                    *code,
                    Some(format!("no_consent: {message}")),
                    None,
                ),
                Outcome::Retry {
                    code,
                    message,
                    tomorrow,
                } => {
                    if row.attempts >= self.cfg.max_attempts {
                        (
                            DeliveryStatus::Dead,
                            None,
                            *code,
                            Some(format!(
                                "retries exhausted after {} attempts: {message}",
                                row.attempts
                            )),
                            None,
                        )
                    } else {
                        let at = if *tomorrow {
                            self.cfg.after_daily_reset(now)
                        } else {
                            now + self.cfg.backoff(row.attempts)
                        };
                        (
                            DeliveryStatus::Pending,
                            Some(at),
                            *code,
                            Some(message.clone()),
                            None,
                        )
                    }
                }
                Outcome::Dead { code, message } => (
                    DeliveryStatus::Dead,
                    None,
                    *code,
                    Some(message.clone()),
                    None,
                ),
                Outcome::InDoubt { message } => (
                    DeliveryStatus::Unknown,
                    None,
                    None,
                    Some(format!(
                        "outcome_unknown: the request left but no answer came back ({message}); not sent again to avoid a duplicate"
                    )),
                    None,
                ),
                Outcome::NotSent { message } => (
                    DeliveryStatus::Pending,
                    Some(now + Duration::seconds(30)),
                    None,
                    Some(format!("not sent: {message}")),
                    None,
                ),
            };
            let mut q = push_deliveries::Entity::update_many()
                .col_expr(
                    push_deliveries::Column::Status,
                    Expr::value(status.as_str()),
                )
                .col_expr(
                    push_deliveries::Column::LeaseOwner,
                    Expr::value(Option::<String>::None),
                )
                .col_expr(
                    push_deliveries::Column::LeaseUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(push_deliveries::Column::LastErrorCode, Expr::value(code))
                .col_expr(push_deliveries::Column::LastError, Expr::value(error))
                .col_expr(push_deliveries::Column::UpdatedAt, Expr::value(now));
            if let Some(at) = next {
                q = q.col_expr(push_deliveries::Column::NextAttemptAt, Expr::value(at));
            }
            if matches!(outcome, Outcome::NotSent { .. }) && sending {
                q = q.col_expr(
                    push_deliveries::Column::Attempts,
                    Expr::col(push_deliveries::Column::Attempts).sub(1),
                );
            }
            if let Some(m) = msgid {
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
                counted.push((row.channel.clone(), status.as_str()));
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

    async fn wechat(
        &self,
        rows: Vec<push_deliveries::Model>,
        ctx: &Context,
        report: &mut PassReport,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> CoreResult<()> {
        let Some(app) = self.platform.wechat_app() else {
            let out: Vec<_> = rows
                .into_iter()
                .map(|r| {
                    (
                        r,
                        Outcome::Dead {
                            code: None,
                            message: "wechat is not configured on this server".into(),
                        },
                    )
                })
                .collect();
            return self.record(&out, report, false).await;
        };
        let mut credits = ctx.credits(&self.core, &rows).await?;
        let mut decided = vec![];
        let mut sendable: Vec<(push_deliveries::Model, WechatPush)> = vec![];
        for r in rows {
            // Each send uses one of the credits counted here, so a member with one credit and
            // three due pushes gets one push and two `no_credit` skips, not two 43101s.
            match ctx.wechat_message(&r, &mut credits, &self.core) {
                Ok(m) => sendable.push((r, m)),
                Err(reason) => decided.push((r, Outcome::Skip { reason })),
            }
        }
        self.record(&decided, report, false).await?;
        let key = format!("wechat:{app}");
        let chunk = WECHAT_CHUNK.min(self.cfg.concurrency).max(1);
        let chunks: Vec<Vec<(push_deliveries::Model, WechatPush)>> =
            sendable.chunks(chunk).map(|c| c.to_vec()).collect();
        let parallel = (self.cfg.concurrency / chunk).max(1);
        // Each chunk does all its own work (reserve, mark, send, record) inside its future, so
        // that nothing here keeps the other chunks' requests from being polled; an error in one
        // chunk does not abandon the others.
        let mut stream = futures_util::stream::iter(chunks)
            .map(|c| self.wechat_chunk(c, &key, ctx, stop))
            .buffer_unordered(parallel);
        let mut first_error = None;
        while let Some(r) = stream.next().await {
            match r {
                Ok(Some(part)) => report.merge(part),
                Ok(None) => return Ok(()), // simulated death (test hook)
                Err(e) => {
                    tracing::error!(worker = %self.worker, error = %e, "a push chunk failed; its rows return after their lease");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// One chunk: reserve the rate for every message, mark the rows `sending` (with a lease
    /// that covers the wait), send, then record. `Ok(None)` when the test hook "kills" the
    /// worker after the sends.
    async fn wechat_chunk(
        &self,
        chunk: Vec<(push_deliveries::Model, WechatPush)>,
        key: &str,
        ctx: &Context,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> CoreResult<Option<PassReport>> {
        let mut report = PassReport::default();
        let ids: Vec<i64> = chunk.iter().map(|(r, _)| r.id).collect();
        if stop() {
            self.release(&ids).await?;
            return Ok(Some(report));
        }
        // The rate first: if the limiter (Redis) is down nothing is sent and no attempt is
        // counted, so an outage never dead-letters a push that did not go out.
        let mut waits = Vec::with_capacity(chunk.len());
        for _ in &chunk {
            match self.limiter.reserve(key, self.cfg.wechat_rate).await {
                Ok(w) => waits.push(w),
                Err(e) => {
                    let at = self.now() + Duration::seconds(30);
                    let back: Vec<(i64, DateTime<Utc>)> = ids.iter().map(|id| (*id, at)).collect();
                    self.defer(&back, &format!("not sent, rate limiter unavailable: {e}"))
                        .await?;
                    report.deferred += back.len();
                    return Ok(Some(report));
                }
            }
        }
        for w in &waits {
            metrics::histogram!(crate::metrics::PUSH_RATE_WAIT).record(w.as_secs_f64());
        }
        let longest = waits.iter().max().copied().unwrap_or_default();
        let waits: HashMap<i64, StdDuration> = ids.iter().copied().zip(waits).collect();
        let messages: HashMap<i64, WechatPush> =
            chunk.iter().map(|(r, m)| (r.id, m.clone())).collect();
        let rows = self
            .mark_sending(
                chunk.into_iter().map(|(r, _)| r).collect(),
                Duration::from_std(longest).unwrap_or_default(),
            )
            .await?;
        // The credit is used before the request leaves: a send whose answer is lost (or whose
        // worker dies) may have reached the phone and used the member's consent, so counting it
        // used makes the mini-program ask again rather than have WeChat refuse the next notice
        // with 43101. A send that certainly did not arrive gives it back below.
        let mut took_credit = HashSet::new();
        for row in &rows {
            if let Some(t) = ctx.template_of(row)
                && super::consent::use_one(&self.core.db, row.member_id, &t.template_id).await?
            {
                took_credit.insert(row.id);
            }
        }
        let sends = rows.into_iter().map(|row| {
            let msg = messages.get(&row.id).cloned();
            let wait = waits.get(&row.id).copied().unwrap_or_default();
            async move {
                let Some(msg) = msg else {
                    let o = Outcome::Dead {
                        code: None,
                        message: "message lost".into(),
                    };
                    return (row, o);
                };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let o = match self.platform.send_wechat(&msg).await {
                    Ok(msgid) => Outcome::Sent { msgid },
                    Err(f) => Outcome::of_failure(&f),
                };
                (row, o)
            }
        });
        let outcomes = futures_util::future::join_all(sends).await;
        if let Some(hook) = &self.crash_after_send
            && hook()
        {
            // Simulated death: the platform has the sends, we record nothing.
            return Ok(None);
        }
        // Credits first, then the rows: a credit taken without its row recorded only makes the
        // count lower than real, never a second send.
        for (row, o) in &outcomes {
            if let Some(tid) = ctx.template_of(row).map(|t| t.template_id.clone()) {
                match o {
                    // Arrived, or may have: the credit stays used.
                    Outcome::Sent { .. } | Outcome::InDoubt { .. } | Outcome::Skip { .. } => {}
                    Outcome::NoConsent { .. } => {
                        super::consent::zero(&self.core.db, row.member_id, &tid).await?
                    }
                    // WeChat answered with an error, or nothing left: the consent was not used.
                    Outcome::Retry { .. } | Outcome::Dead { .. } | Outcome::NotSent { .. }
                        if took_credit.contains(&row.id) =>
                    {
                        super::consent::give_back(&self.core.db, row.member_id, &tid).await?
                    }
                    Outcome::Retry { .. } | Outcome::Dead { .. } | Outcome::NotSent { .. } => {}
                }
            }
        }
        self.record(&outcomes, &mut report, true).await?;
        Ok(Some(report))
    }

    async fn wecom(
        &self,
        rows: Vec<push_deliveries::Model>,
        ctx: &Context,
        report: &mut PassReport,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> CoreResult<()> {
        let Some(app) = self.platform.wecom_app() else {
            let out: Vec<_> = rows
                .into_iter()
                .map(|r| {
                    (
                        r,
                        Outcome::Dead {
                            code: None,
                            message: "wecom is not configured on this server".into(),
                        },
                    )
                })
                .collect();
            return self.record(&out, report, false).await;
        };
        let now = self.now();
        let mut recent = ctx.wecom_recent(&self.core, &rows, now).await?;
        let mut decided = vec![];
        let mut deferred: Vec<(i64, DateTime<Utc>)> = vec![];
        // (broadcast, occurrence, round) → rows with the same card.
        let mut groups: BTreeMap<(i64, i64, i32), Vec<(push_deliveries::Model, String)>> =
            BTreeMap::new();
        for r in rows {
            let userid = match ctx.wecom_user(&r) {
                Ok(u) => u,
                Err(reason) => {
                    decided.push((r, Outcome::Skip { reason }));
                    continue;
                }
            };
            if let Err(reason) = ctx.broadcast_live(&r) {
                decided.push((r, Outcome::Skip { reason }));
                continue;
            }
            // Sends already made, plus those this pass has planned for the member.
            let history = recent.entry(r.member_id).or_default();
            if let Some(at) = budget_frees_at(
                history,
                now,
                self.cfg.wecom_per_minute,
                self.cfg.wecom_per_hour,
            ) {
                deferred.push((r.id, at));
                continue;
            }
            history.push(now);
            groups
                .entry((r.broadcast_id, r.occurrence, r.round))
                .or_default()
                .push((r, userid));
        }
        self.record(&decided, report, false).await?;
        self.defer(
            &deferred,
            "deferred: the member's WeCom budget (30 a minute, 1,000 an hour) is used up",
        )
        .await?;
        report.deferred += deferred.len();
        let key = format!("wecom:{app}");
        for ((bid, _, round), members) in groups {
            for call in members.chunks(WECOM_CALL_MAX) {
                if stop() {
                    self.release(&call.iter().map(|(r, _)| r.id).collect::<Vec<_>>())
                        .await?;
                    continue;
                }
                let card = ctx.wecom_card(&self.core, bid, round > 0);
                let users: HashMap<i64, String> =
                    call.iter().map(|(r, u)| (r.id, u.clone())).collect();
                // The rate first, as for WeChat: a limiter outage sends nothing, counts nothing.
                let wait = match self.limiter.reserve(&key, self.cfg.wecom_rate).await {
                    Ok(w) => w,
                    Err(e) => {
                        let at = self.now() + Duration::seconds(30);
                        let back: Vec<(i64, DateTime<Utc>)> =
                            call.iter().map(|(r, _)| (r.id, at)).collect();
                        self.defer(&back, &format!("not sent, rate limiter unavailable: {e}"))
                            .await?;
                        report.deferred += back.len();
                        continue;
                    }
                };
                let rows = self
                    .mark_sending(
                        call.iter().map(|(r, _)| r.clone()).collect(),
                        Duration::from_std(wait).unwrap_or_default(),
                    )
                    .await?;
                if rows.is_empty() {
                    continue;
                }
                let push = WecomPush {
                    userids: rows
                        .iter()
                        .filter_map(|r| users.get(&r.id).cloned())
                        .collect(),
                    title: card.0,
                    description: card.1,
                    url: card.2,
                };
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let outcomes: Vec<(push_deliveries::Model, Outcome)> = {
                    match self.platform.send_wecom(&push).await {
                        Ok(accepted) => {
                            let invalid: HashSet<String> = accepted
                                .invalid_users
                                .iter()
                                .map(|u| u.to_lowercase())
                                .collect();
                            rows.into_iter()
                                    .map(|r| {
                                        let u = users.get(&r.id).map(|u| u.to_lowercase()).unwrap_or_default();
                                        let o = if invalid.contains(&u) {
                                            Outcome::Dead {
                                                code: None,
                                                message: "invaliduser: WeCom does not know this user or the app cannot reach them".into(),
                                            }
                                        } else {
                                            Outcome::Sent { msgid: accepted.msgid.clone() }
                                        };
                                        (r, o)
                                    })
                                    .collect()
                        }
                        Err(f) => {
                            let o = Outcome::of_failure(&f);
                            rows.into_iter().map(|r| (r, o.clone())).collect()
                        }
                    }
                };
                if let Some(hook) = &self.crash_after_send
                    && hook()
                {
                    return Ok(());
                }
                self.record(&outcomes, report, true).await?;
            }
        }
        Ok(())
    }

    /// Puts rows back for later without counting an attempt (the WeCom per-member budget).
    async fn defer(&self, rows: &[(i64, DateTime<Utc>)], why: &str) -> CoreResult<()> {
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
}

/// When a member may get the next WeCom message, or `None` when they may now. `sent` are the
/// member's WeCom sends within the last hour.
pub fn budget_frees_at(
    sent: &[DateTime<Utc>],
    now: DateTime<Utc>,
    per_minute: usize,
    per_hour: usize,
) -> Option<DateTime<Utc>> {
    let mut in_hour: Vec<DateTime<Utc>> = sent
        .iter()
        .copied()
        .filter(|t| *t > now - Duration::hours(1))
        .collect();
    in_hour.sort();
    let in_minute: Vec<DateTime<Utc>> = in_hour
        .iter()
        .copied()
        .filter(|t| *t > now - Duration::minutes(1))
        .collect();
    let mut at = None;
    if in_hour.len() >= per_hour {
        at = Some(in_hour[in_hour.len() - per_hour] + Duration::hours(1));
    }
    if in_minute.len() >= per_minute {
        let m = in_minute[in_minute.len() - per_minute] + Duration::minutes(1);
        at = Some(at.map_or(m, |a: DateTime<Utc>| Ord::max(a, m)));
    }
    at.map(|a| Ord::max(a, now + Duration::seconds(1)))
}

/// Everything the rows of one pass refer to, loaded in a few queries.
struct Context {
    members: HashMap<i64, members::Model>,
    broadcasts: HashMap<i64, broadcasts::Model>,
    posts: HashMap<i64, posts::Model>,
    templates: HashMap<String, TemplateConfig>,
    /// (broadcast, occurrence, member) → inbox item id.
    items: HashMap<(i64, i64, i64), i64>,
    /// Broadcast id → the meeting it was sent for (its time and place fill `time`/`location`).
    meetings: HashMap<i64, meetings::Model>,
}

impl Context {
    async fn load<'a>(
        core: &Core,
        rows: impl Iterator<Item = &'a push_deliveries::Model>,
    ) -> CoreResult<Self> {
        let rows: Vec<&push_deliveries::Model> = rows.collect();
        let member_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.member_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let broadcast_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.broadcast_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut members_map = HashMap::new();
        for chunk in member_ids.chunks(500) {
            for m in members::Entity::find()
                .filter(members::Column::Id.is_in(chunk.to_vec()))
                .all(&core.db)
                .await?
            {
                members_map.insert(m.id, m);
            }
        }
        let broadcasts_map: HashMap<i64, broadcasts::Model> = broadcasts::Entity::find()
            .filter(broadcasts::Column::Id.is_in(broadcast_ids.clone()))
            .all(&core.db)
            .await?
            .into_iter()
            .map(|b| (b.id, b))
            .collect();
        let post_ids: Vec<i64> = broadcasts_map.values().map(|b| b.post_id).collect();
        let posts_map: HashMap<i64, posts::Model> = posts::Entity::find()
            .filter(posts::Column::Id.is_in(post_ids))
            .all(&core.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let templates = templates::all(core)
            .await?
            .into_iter()
            .map(|t| (t.kind.clone(), t))
            .collect();
        let mut items = HashMap::new();
        for chunk in member_ids.chunks(500) {
            let found: Vec<(i64, i64, i64, i64)> = inbox_items::Entity::find()
                .select_only()
                .column(inbox_items::Column::BroadcastId)
                .column(inbox_items::Column::Occurrence)
                .column(inbox_items::Column::MemberId)
                .column(inbox_items::Column::Id)
                .filter(inbox_items::Column::BroadcastId.is_in(broadcast_ids.clone()))
                .filter(inbox_items::Column::MemberId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&core.db)
                .await?;
            for (b, o, m, id) in found {
                items.insert((b, o, m), id);
            }
        }
        let links = meeting_broadcasts::Entity::find()
            .filter(meeting_broadcasts::Column::BroadcastId.is_in(broadcast_ids.clone()))
            .all(&core.db)
            .await?;
        let mut meetings_map = HashMap::new();
        if !links.is_empty() {
            let rows: HashMap<i64, meetings::Model> = meetings::Entity::find()
                .filter(meetings::Column::Id.is_in(links.iter().map(|l| l.meeting_id)))
                .all(&core.db)
                .await?
                .into_iter()
                .map(|m| (m.id, m))
                .collect();
            for l in links {
                if let Some(m) = rows.get(&l.meeting_id) {
                    meetings_map.insert(l.broadcast_id, m.clone());
                }
            }
        }
        Ok(Self {
            meetings: meetings_map,
            members: members_map,
            broadcasts: broadcasts_map,
            posts: posts_map,
            templates,
            items,
        })
    }

    fn broadcast_live(&self, r: &push_deliveries::Model) -> Result<&broadcasts::Model, String> {
        let b = self
            .broadcasts
            .get(&r.broadcast_id)
            .ok_or_else(|| "the broadcast no longer exists".to_string())?;
        if b.status == Status::Canceled.as_str() {
            return Err("canceled: the broadcast was canceled before this push went out".into());
        }
        Ok(b)
    }

    fn template_of(&self, r: &push_deliveries::Model) -> Option<&TemplateConfig> {
        let b = self.broadcasts.get(&r.broadcast_id)?;
        let p = self.posts.get(&b.post_id)?;
        let kind = if r.round > 0 {
            self.templates
                .get("reminder")
                .map(|_| "reminder")
                .unwrap_or(p.kind.as_str())
        } else {
            p.kind.as_str()
        };
        self.templates.get(kind)
    }

    /// Credits of the (member, template) pairs of these rows.
    async fn credits(
        &self,
        core: &Core,
        rows: &[push_deliveries::Model],
    ) -> CoreResult<HashMap<(i64, String), i64>> {
        let member_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.member_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut out = HashMap::new();
        for chunk in member_ids.chunks(500) {
            for c in wechat_credits::Entity::find()
                .filter(wechat_credits::Column::MemberId.is_in(chunk.to_vec()))
                .all(&core.db)
                .await?
            {
                out.insert((c.member_id, c.template_id), c.credits);
            }
        }
        Ok(out)
    }

    fn facts(&self, core: &Core, b: &broadcasts::Model, reminder: bool) -> Option<Facts> {
        let p = self.posts.get(&b.post_id)?;
        let tz: Tz = b.timezone.parse().unwrap_or(core.settings.timezone);
        let meeting = self.meetings.get(&b.id);
        let at = if let Some(m) = meeting {
            m.starts_at
        } else if b.recurrence.is_some() {
            DateTime::from_timestamp(b.occurrence, 0).unwrap_or(b.send_at)
        } else {
            b.send_at
        };
        Some(Facts {
            title: p.title.clone(),
            summary: p.summary.clone().or_else(|| {
                Some(
                    p.body_md
                        .chars()
                        .filter(|c| !"#*>`_".contains(*c))
                        .take(40)
                        .collect(),
                )
            }),
            kind: p.kind.clone(),
            at,
            tz,
            location: meeting.map(crate::meetings::where_text),
            sender: core.settings.push.sender_name.clone(),
            deadline: b.read_by,
            reminder,
        })
    }

    fn wechat_message(
        &self,
        r: &push_deliveries::Model,
        credits: &mut HashMap<(i64, String), i64>,
        core: &Core,
    ) -> Result<WechatPush, String> {
        let b = self.broadcast_live(r)?;
        let m = self
            .members
            .get(&r.member_id)
            .ok_or_else(|| "the member no longer exists".to_string())?;
        let openid = m
            .wechat_openid
            .clone()
            .ok_or_else(|| "not_bound: the member has not bound WeChat".to_string())?;
        let post_kind = self
            .posts
            .get(&b.post_id)
            .map(|p| p.kind.clone())
            .unwrap_or_default();
        let t = self.template_of(r).ok_or_else(|| {
            format!("no_template: no subscribe template is configured for {post_kind}")
        })?;
        match credits.get_mut(&(r.member_id, t.template_id.clone())) {
            Some(left) if *left > 0 => *left -= 1,
            _ => {
                return Err(format!(
                    "no_credit: the member has not allowed a message of template {}",
                    t.template_id
                ));
            }
        }
        let facts = self
            .facts(core, b, r.round > 0)
            .ok_or_else(|| "the post no longer exists".to_string())?;
        let item = self
            .items
            .get(&(r.broadcast_id, r.occurrence, r.member_id))
            .copied();
        Ok(WechatPush {
            openid,
            template_id: t.template_id.clone(),
            page: templates::page_for(t, item),
            data: templates::render(t, &facts),
        })
    }

    fn wecom_user(&self, r: &push_deliveries::Model) -> Result<String, String> {
        self.members
            .get(&r.member_id)
            .and_then(|m| m.wecom_userid.clone())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| "no_wecom_userid: the member has no WeCom user id".to_string())
    }

    /// (title, description, url) of the WeCom text card of a broadcast.
    fn wecom_card(
        &self,
        core: &Core,
        broadcast_id: i64,
        reminder: bool,
    ) -> (String, String, String) {
        let b = self.broadcasts.get(&broadcast_id);
        let facts = b.and_then(|b| self.facts(core, b, reminder));
        let url = core
            .settings
            .push
            .link
            .as_deref()
            .unwrap_or("https://fingertip.invalid/broadcasts/{broadcast_id}")
            .replace("{broadcast_id}", &broadcast_id.to_string());
        match facts {
            None => ("通知".into(), String::new(), url),
            Some(f) => {
                let title = if reminder {
                    format!("提醒：{}", f.title)
                } else {
                    f.title.clone()
                };
                let when = f.at.with_timezone(&f.tz).format("%Y年%m月%d日 %H:%M");
                let mut desc = format!(
                    "<div class=\"gray\">{} · {}</div>",
                    templates::kind_label(&f.kind),
                    when
                );
                if let Some(s) = f.summary.as_deref().filter(|s| !s.is_empty()) {
                    desc.push_str(&format!("<div class=\"normal\">{}</div>", html_escape(s)));
                }
                if let Some(d) = f.deadline {
                    desc.push_str(&format!(
                        "<div class=\"highlight\">请于{}前阅读</div>",
                        d.with_timezone(&f.tz).format("%m月%d日 %H:%M")
                    ));
                }
                (title, desc, url)
            }
        }
    }

    /// Each member's WeCom sends within the last hour: accepted ones, and those being sent or
    /// of unknown outcome (they may have arrived, so they count against the budget too).
    async fn wecom_recent(
        &self,
        core: &Core,
        rows: &[push_deliveries::Model],
        now: DateTime<Utc>,
    ) -> CoreResult<HashMap<i64, Vec<DateTime<Utc>>>> {
        let member_ids: Vec<i64> = rows
            .iter()
            .map(|r| r.member_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut out: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
        for chunk in member_ids.chunks(500) {
            let sent: Vec<(i64, DateTime<Utc>)> = push_deliveries::Entity::find()
                .select_only()
                .column(push_deliveries::Column::MemberId)
                .column(push_deliveries::Column::UpdatedAt)
                .filter(push_deliveries::Column::MemberId.is_in(chunk.to_vec()))
                .filter(push_deliveries::Column::Channel.eq("wecom"))
                .filter(push_deliveries::Column::Status.is_in([
                    DeliveryStatus::Sent.as_str(),
                    DeliveryStatus::Sending.as_str(),
                    DeliveryStatus::Unknown.as_str(),
                ]))
                .filter(push_deliveries::Column::UpdatedAt.gt(now - Duration::hours(1)))
                .into_tuple()
                .all(&core.db)
                .await?;
            for (m, at) in sent {
                out.entry(m).or_default().push(at);
            }
        }
        Ok(out)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How long to wait before the next pass when this one found nothing.
pub const IDLE_POLL: StdDuration = StdDuration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
    }

    #[test]
    fn wecom_budget_per_minute_and_hour() {
        let now = t(10, 0, 0);
        assert_eq!(budget_frees_at(&[], now, 30, 1000), None);
        // 30 in the last minute: the oldest of them leaves the window first.
        let minute: Vec<_> = (0..30).map(|i| t(9, 59, 1 + i)).collect();
        assert_eq!(budget_frees_at(&minute, now, 30, 1000), Some(t(10, 0, 1)));
        assert_eq!(budget_frees_at(&minute[..29], now, 30, 1000), None);
        // 1,000 in the last hour, spread out: wait for the oldest to be an hour old.
        let hour: Vec<_> = (0..1000)
            .map(|i| t(9, 0, 0) + Duration::seconds(1 + i * 3))
            .collect();
        assert_eq!(budget_frees_at(&hour, now, 30, 1000), Some(t(10, 0, 1)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = SendConfig::default();
        let b1 = c.backoff(1).num_milliseconds();
        assert!((2_500..=7_500).contains(&b1), "{b1}");
        let b4 = c.backoff(4).num_milliseconds();
        assert!((20_000..=60_000).contains(&b4), "{b4}");
        let b20 = c.backoff(20).num_milliseconds();
        assert!(b20 <= 45 * 60 * 1000, "{b20}");
    }

    #[test]
    fn the_daily_quota_resets_at_midnight_in_china() {
        let c = SendConfig::default();
        // 15:00 UTC is 23:00 in Shanghai; midnight there is 16:00 UTC.
        let at = c.after_daily_reset(t(15, 0, 0));
        assert!(at >= t(16, 0, 0) && at <= t(16, 8, 0), "{at}");
    }
}
