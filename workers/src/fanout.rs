//! The fan-out worker: wakes on a queued job or every poll interval, moves due scheduled
//! broadcasts to `sending`, materializes the due occurrences of meeting series, fans out
//! every `sending` broadcast whose lease is free, runs the required-reading ladders' steps
//! that are due, and warns secretaries of meeting-calendar rules about to be missed; beside its
//! passes it folds the unread counts of new inbox rows into the members' counters
//! (`inbox::unread`).

use std::sync::Arc;
use std::time::Duration;

use fingertip_core::Core;
use fingertip_core::broadcasts::fanout::{self, FanoutConfig, Outcome};
use fingertip_core::broadcasts::ladder;
use fingertip_core::compliance;
use fingertip_core::meetings;
use fingertip_core::ports::Job;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub struct FanoutWorker {
    core: Arc<Core>,
    id: String,
    cfg: FanoutConfig,
    /// How long to wait for a job before sweeping the database anyway.
    pub poll: Duration,
    /// When (on the core's clock) the meeting calendar was last checked for warnings.
    calendar_checked: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
}

/// How often the meeting calendar is checked for warnings to send (on the core's clock).
const CALENDAR_EVERY: chrono::Duration = chrono::Duration::minutes(10);

impl FanoutWorker {
    pub fn new(core: Arc<Core>, id: impl Into<String>) -> Self {
        Self {
            core,
            id: id.into(),
            cfg: FanoutConfig::default(),
            poll: Duration::from_secs(1),
            calendar_checked: std::sync::Mutex::new(None),
        }
    }

    pub fn with_config(mut self, cfg: FanoutConfig) -> Self {
        self.cfg = cfg;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    async fn handle(&self, id: i64, stop: &CancellationToken) -> anyhow::Result<bool> {
        let is_stopped = || stop.is_cancelled();
        let out = fanout::process(&self.core, id, &self.id, &self.cfg, &is_stopped)
            .instrument(tracing::info_span!(
                "fanout.broadcast",
                broadcast.id = id,
                occurrence = tracing::field::Empty
            ))
            .await?;
        let outcome = match out {
            Outcome::Sent { .. } => "sent",
            Outcome::Stopped { .. } => "stopped",
            Outcome::NotClaimed => return Ok(false),
        };
        metrics::counter!(fingertip_core::metrics::FANOUT_OCCURRENCES, "outcome" => outcome)
            .increment(1);
        Ok(matches!(out, Outcome::Sent { .. }))
    }

    /// One pass in a span of its own (`pass.id`), counted and timed.
    async fn pass(&self, wait: Duration, stop: &CancellationToken) -> anyhow::Result<usize> {
        let span = tracing::info_span!(
            "fanout.pass",
            worker = %self.id,
            pass.id = %fingertip_core::trace::new_id()
        );
        let started = std::time::Instant::now();
        let r = self.sweep(wait, stop).instrument(span).await;
        fingertip_core::metrics::worker_pass("fanout", started.elapsed().as_secs_f64(), r.is_err());
        r
    }

    /// Handles the jobs `pull` returned, then sweeps the database. Returns how many broadcasts
    /// this pass finished and ladder steps it ran.
    async fn sweep(&self, wait: Duration, stop: &CancellationToken) -> anyhow::Result<usize> {
        let mut done = 0;
        let deliveries = match self.core.queue.pull(32, wait).await {
            Ok(d) => d,
            Err(e) => {
                // The sweep below still finds the work; a queue outage only costs latency.
                tracing::warn!(worker = %self.id, error = %e, "queue unavailable; sweeping the database only");
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                vec![]
            }
        };
        // One broadcast that fails (the database refusing its batch, a row edited by hand) is
        // logged and left for the next pass (an outage is not logged per broadcast); the others in this pass still go out. The pass
        // reports the first failure at its end, so it is counted and logged as failed.
        let mut failed: Option<anyhow::Error> = None;
        for d in deliveries {
            match d.job {
                Job::Fanout { broadcast_id } => match self.handle(broadcast_id, stop).await {
                    Ok(true) => done += 1,
                    Ok(false) => {}
                    Err(e) => {
                        self.failed(broadcast_id, &e);
                        failed.get_or_insert(e);
                    }
                },
            }
            if let Err(e) = self.core.queue.ack(&d).await {
                tracing::warn!(worker = %self.id, error = %e, "could not acknowledge a job");
            }
        }
        // Meetings of a series whose notice time has come: created here, so that their notices
        // (broadcasts now `sending`) are fanned out by the sweep below in this same pass.
        if let Err(e) = meetings::series::materialize_due(&self.core, &self.id).await {
            // The promotion below meets the same outage and fails the pass.
            if !e.is_outage() {
                tracing::warn!(worker = %self.id, error = %e, "meeting series sweep failed; retrying next pass");
            }
        }
        fanout::promote_due(&self.core).await?;
        // Required reading whose reminder, urgent push or summary is due: each step once, in
        // its own transaction. The summaries it writes are `sending`, so the claims below fan
        // them out in this same pass.
        if let Err(e) = self.check_calendar().await {
            if !e.is_outage() {
                tracing::warn!(worker = %self.id, error = %e, "meeting calendar sweep failed; retrying next pass");
            }
            failed.get_or_insert(e.into());
        }
        match ladder::run_due(&self.core).await {
            Ok(steps) => done += usize::try_from(steps).unwrap_or(usize::MAX),
            Err(e) => {
                if !e.is_outage() {
                    tracing::warn!(worker = %self.id, error = %e, "required-reading sweep failed; retrying next pass");
                }
                failed.get_or_insert(e.into());
            }
        }
        for id in fanout::claimable(&self.core, &self.id, 16).await? {
            if stop.is_cancelled() {
                break;
            }
            match self.handle(id, stop).await {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(e) => {
                    self.failed(id, &e);
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// Warns secretaries of calendar rules about to be missed and, in the year's last weeks, of
    /// members without their yearly talk, at most every [`CALENDAR_EVERY`]: the checks read the
    /// year's meetings and talks, so not on every pass. A notice is `sending` when this
    /// returns, fanned out by this same pass.
    async fn check_calendar(&self) -> fingertip_core::CoreResult<()> {
        let now = self.core.now();
        let due = self.calendar_checked.lock().map_or(true, |last| {
            last.is_none_or(|t| now - t >= CALENDAR_EVERY || now < t)
        });
        if !due {
            return Ok(());
        }
        compliance::warn_due(&self.core).await?;
        fingertip_core::care::talks::remind_due(&self.core).await?;
        fingertip_core::surveys::worker::run_due(&self.core).await?;
        fingertip_core::feedback::remind::remind_due(&self.core).await?;
        if let Ok(mut last) = self.calendar_checked.lock() {
            *last = Some(now);
        }
        Ok(())
    }

    fn failed(&self, broadcast_id: i64, e: &anyhow::Error) {
        // An outage fails every broadcast alike: the pass reports it once.
        if crate::outage::is_outage(e) {
            return;
        }
        tracing::error!(worker = %self.id, broadcast.id = broadcast_id, error = %e, "fan-out of a broadcast failed; the others go on and it is tried again next pass");
    }

    /// One pass without waiting: what tests call until it returns 0.
    /// (Then folds the new rows' unread counts, which [`Self::run`] does beside its passes.)
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let done = self.pass_once().await?;
        self.fold().await?;
        Ok(done)
    }

    /// One pass without waiting and without the fold that [`Self::run_once`] adds: what the
    /// benchmark times as the fan-out.
    pub async fn pass_once(&self) -> anyhow::Result<usize> {
        self.pass(Duration::ZERO, &CancellationToken::new()).await
    }

    /// Adds the unread counts of the inbox rows written since the last fold (by any worker) to
    /// the members' counters (`inbox::unread`; nothing to do on SQLite). The counts are exact
    /// without it; it keeps reading them O(1).
    pub async fn fold(&self) -> fingertip_core::CoreResult<()> {
        let f = fingertip_core::inbox::unread::fold(&self.core).await?;
        if f.rows > 0 {
            tracing::debug!(worker = %self.id, rows = f.rows, members = f.members, "unread counts folded");
        }
        Ok(())
    }

    /// [`Self::fold`] every poll interval until `stop`, beside the passes, so that folding the
    /// counts of a large fan-out never holds up the next one. A fold under way when `stop`
    /// comes is finished (each of its transactions is short, and stopping between them would
    /// lose nothing either).
    async fn fold_beside(&self, stop: &CancellationToken) {
        while !stop.is_cancelled() {
            if let Err(e) = self.fold().await
                && !e.is_outage()
            {
                tracing::warn!(worker = %self.id, error = %e, "folding unread counts failed; retrying shortly");
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Runs until `stop` is cancelled. A fan-out in progress stops at its next batch and
    /// releases its lease, so that the next worker resumes it at once.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(
            worker = %self.id,
            queue = self.core.queue.name(),
            lease_secs = self.cfg.lease.num_seconds(),
            batch = self.cfg.batch,
            "fan-out worker started"
        );
        let passes = async {
            while !stop.is_cancelled() {
                self.pass_or_wait(&stop).await;
            }
        };
        tokio::join!(passes, self.fold_beside(&stop));
        tracing::info!(worker = %self.id, "fan-out worker stopped");
    }

    /// One pass; after a failure, waits for the database or a poll interval.
    async fn pass_or_wait(&self, stop: &CancellationToken) {
        // `pass` itself stops between batches when asked, so it is never dropped mid-batch.
        let Err(e) = self.pass(self.poll, stop).await else {
            return;
        };
        if crate::outage::is_outage(&e) && crate::outage::wait_for_database(&self.core, stop).await
        {
            return;
        }
        tracing::error!(worker = %self.id, error = %e, "fan-out pass failed; retrying shortly");
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(self.poll) => {}
        }
    }
}
