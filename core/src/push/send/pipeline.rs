//! The one pipeline every channel runs, for the rows of one channel in one pass:
//!
//! 1. decide each row (`Channel::decide`): skips are recorded, deferrals put back;
//! 2. group the rest into units (`Channel::units`) and run up to `Channel::parallel` units at
//!    once, each doing all its own work inside its own future, so that nothing here keeps the
//!    other units' requests from being polled and an error in one does not abandon the others.
//!
//! One unit: stop? release → reserve a rate-limit slot per call (a limiter outage sends
//! nothing and counts no attempt) → mark the rows `sending` (the attempt counted, the lease
//! covering the wait) → `before_send` → each call at its slot → the test hook → `after_send`
//! → record the outcomes in one transaction (again once the database answers, if it went down
//! after the sends).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tracing::Instrument;

use super::channel::{Channel, Decision, Unit, as_lease};
use super::outcome::{Outcome, PassReport};
use super::{Row, Sender, Stop};
use crate::error::{CoreError, CoreResult};

/// How a channel's run ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ran {
    Done,
    /// The test hook "killed" the worker after a send: nothing more is done in this pass.
    Killed,
}

impl Sender {
    /// Decides, sends and records the rows of one channel.
    pub(super) async fn run<C: Channel>(
        &self,
        mut channel: C,
        rows: Vec<Row>,
        report: &mut PassReport,
        stop: &Stop<'_>,
    ) -> CoreResult<Ran> {
        let mut skipped = vec![];
        let mut deferred: BTreeMap<&'static str, Vec<(i64, DateTime<Utc>)>> = BTreeMap::new();
        let mut going = vec![];
        for r in rows {
            match channel.decide(&r) {
                Decision::Skip(reason) => skipped.push((r, Outcome::Skip { reason })),
                Decision::Defer { at, why } => deferred.entry(why).or_default().push((r.id, at)),
                Decision::Send(item) => going.push((r, item)),
            }
        }
        self.record(&skipped, report, false).await?;
        for (why, rows) in deferred {
            self.defer(&rows, why).await?;
            report.deferred += rows.len();
        }
        let units = channel.units(going);
        let channel = &channel;
        let mut running = futures_util::stream::iter(units)
            .map(|u| {
                let span = unit_span(&u);
                self.unit(channel, u, stop).instrument(span)
            })
            .buffer_unordered(channel.parallel().max(1));
        let mut first_error = None;
        while let Some(r) = running.next().await {
            match r {
                Ok(Some(part)) => report.merge(part),
                Ok(None) => return Ok(Ran::Killed),
                Err(e) => {
                    if !e.is_outage() {
                        tracing::error!(worker = %self.worker, error = %e, "a push unit failed; rows it had not sent go back to pending, the others are settled when their lease ends");
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Ran::Done),
        }
    }

    /// One unit, from its reservation to its recorded outcomes. `Ok(None)` when the test hook
    /// "kills" the worker after the sends.
    async fn unit<C: Channel>(
        &self,
        channel: &C,
        unit: Unit<C::Message>,
        stop: &Stop<'_>,
    ) -> CoreResult<Option<PassReport>> {
        let mut report = PassReport::default();
        let ids: Vec<i64> = unit
            .calls
            .iter()
            .flat_map(|c| c.rows.iter().map(|r| r.id))
            .collect();
        if stop() {
            self.release(&ids).await?;
            return Ok(Some(report));
        }
        // The rate first: if the limiter (Redis) is down nothing is sent and no attempt is
        // counted, so an outage never dead-letters a push that did not go out.
        let key = channel.rate_key();
        let mut waits: Vec<Duration> = Vec::with_capacity(unit.calls.len());
        for _ in &unit.calls {
            match self.limiter.reserve(&key, channel.rate()).await {
                Ok(w) => waits.push(w),
                Err(e) => {
                    let at = self.now() + chrono::Duration::seconds(30);
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
        // Marked `sending` before anything leaves: from here on a row is never sent again.
        let mut call_rows: Vec<Vec<i64>> = Vec::with_capacity(unit.calls.len());
        let mut messages = Vec::with_capacity(unit.calls.len());
        let mut rows = Vec::with_capacity(ids.len());
        for c in unit.calls {
            call_rows.push(c.rows.iter().map(|r| r.id).collect());
            rows.extend(c.rows);
            messages.push(c.message);
        }
        // Until when the rows are this worker's (the lease `mark_sending` writes), less a margin:
        // a write about them after that could race another pass's recovery.
        let held_until = tokio::time::Instant::now()
            + (self.cfg.lease.to_std().unwrap_or_default() + longest).saturating_sub(LEASE_MARGIN);
        let marked = match self.mark_sending(rows, as_lease(longest)).await {
            Ok(m) => m,
            // The update may have committed although its answer was lost: nothing left.
            Err(e) => return Err(self.not_sent(&ids, e, held_until).await),
        };
        let mut held: HashMap<i64, Row> = marked.into_iter().map(|r| (r.id, r)).collect();
        if held.is_empty() {
            return Ok(Some(report));
        }
        // Each call with the rows of it still ours (a lost lease drops a row), in unit order.
        let calls: Vec<(Vec<Row>, C::Message, Duration)> = call_rows
            .into_iter()
            .zip(messages)
            .zip(waits)
            .filter_map(|((ids, message), wait)| {
                let rows: Vec<Row> = ids.iter().filter_map(|id| held.remove(id)).collect();
                (!rows.is_empty()).then_some((rows, message, wait))
            })
            .collect();
        let sending: Vec<&Row> = calls.iter().flat_map(|(rows, _, _)| rows).collect();
        let taken = match channel.before_send(&sending).await {
            Ok(t) => t,
            Err(e) => {
                // Credits `before_send` took before it failed are not given back: the count
                // stays lower than real, never a second send (see `after_send`).
                let ids: Vec<i64> = sending.iter().map(|r| r.id).collect();
                return Err(self.not_sent(&ids, e, held_until).await);
            }
        };
        let sends = calls.into_iter().map(|(rows, message, wait)| async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            channel.send(&message, rows).await
        });
        let outcomes: Vec<(Row, Outcome)> = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .flatten()
            .collect();
        if let Some(hook) = &self.crash_after_send
            && hook()
        {
            // Simulated death: the platform has the sends, we record nothing.
            return Ok(None);
        }
        if let Err(e) = channel.after_send(&outcomes, taken).await {
            // Not retried (giving a credit back twice would overcount): credit bookkeeping lost
            // to an outage only leaves a count lower than real, never a second send.
            if !e.is_outage() {
                return Err(e);
            }
        }
        self.record_through_outage(&outcomes, &mut report, held_until)
            .await?;
        Ok(Some(report))
    }

    /// Records what the platform already has. When the database is down, the write is tried
    /// again once it answers (the rows stay leased to this worker meanwhile, and the write only
    /// touches rows still `sending` under this worker's lease), so that pushes which went out
    /// are recorded `sent` rather than left to become `unknown`. Past the lease, the recovery of
    /// another pass owns the rows and this gives up.
    async fn record_through_outage(
        &self,
        outcomes: &[(Row, Outcome)],
        report: &mut PassReport,
        held_until: tokio::time::Instant,
    ) -> CoreResult<()> {
        let recorded = self
            .through_outage(held_until, || async {
                let mut attempt = PassReport::default();
                self.record(outcomes, &mut attempt, true).await?;
                Ok(attempt)
            })
            .await?;
        report.merge(recorded);
        Ok(())
    }

    /// A unit failed (with `e`) before anything left: its rows go back to `pending`, once the
    /// database answers if it is down, so that they are sent later rather than taken for in
    /// doubt. Returns `e`, for the unit to report.
    async fn not_sent(
        &self,
        ids: &[i64],
        e: CoreError,
        held_until: tokio::time::Instant,
    ) -> CoreError {
        if let Err(again) = self
            .through_outage(held_until, || self.unmark_sending(ids))
            .await
            && !again.is_outage()
        {
            tracing::warn!(worker = %self.worker, error = %again, "rows of a failed unit could not be put back; they become unknown when their lease ends");
        }
        e
    }

    /// Runs `op`, a write about rows this worker holds until `deadline`, and while the
    /// database is down runs it again once it answers, until then (the writes only touch rows
    /// still under this worker's lease, so a second run changes nothing the first did).
    async fn through_outage<T, F, Fut>(
        &self,
        deadline: tokio::time::Instant,
        mut op: F,
    ) -> CoreResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = CoreResult<T>>,
    {
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) if e.is_outage() => {
                    let health = &self.core.db_health;
                    health.suspect();
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() || tokio::time::timeout(left, health.wait_up()).await.is_err()
                    {
                        return Err(e);
                    }
                    // Up (or not yet found down by the probe): a moment, then the write again.
                    tokio::time::sleep(RECORD_RETRY).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Pause between two tries of recording outcomes while the database comes back.
const RECORD_RETRY: Duration = Duration::from_millis(500);
/// How long before its lease ends a worker stops writing about rows it holds.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// A span per unit, so that every log line of its sends names what is sent to whom: the
/// channel, the broadcast and occurrence, and the member (one for a WeChat unit; the first and
/// the count for a WeCom card to many).
fn unit_span<M>(unit: &Unit<M>) -> tracing::Span {
    let mut rows = unit.calls.iter().flat_map(|c| c.rows.iter());
    let count = unit.calls.iter().map(|c| c.rows.len()).sum::<usize>();
    let Some(first) = rows.next() else {
        return tracing::info_span!("push.unit", rows = 0);
    };
    tracing::info_span!(
        "push.unit",
        channel = %first.channel,
        broadcast.id = first.broadcast_id,
        occurrence = first.occurrence,
        member.id = first.member_id,
        rows = count,
    )
}
