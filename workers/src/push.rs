//! The push worker: the loop around the push sender. Every pass (`Sender::pass`, see
//! `fingertip_core::push::send` for the rules) recovers rows of dead workers, claims due
//! deliveries and sends them; this loop gives each pass a span (`pass.id`), counts and times
//! it, logs what it did, waits `poll` when it found nothing, and stops between units when
//! asked (the sender releases the rows it had not sent).

use std::sync::Arc;
use std::time::Duration;

use fingertip_core::Core;
use fingertip_core::push::send::{PassReport, SendConfig, Sender, Stop};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// How long to wait before the next pass when this one found nothing to claim.
pub const IDLE_POLL: Duration = Duration::from_secs(1);

pub struct PushWorker {
    sender: Sender,
    core: Arc<Core>,
    pub poll: Duration,
}

impl PushWorker {
    /// `None` when no push platform is configured: there is nothing to push to.
    pub fn new(core: Arc<Core>, id: impl Into<String>, cfg: SendConfig) -> Option<Self> {
        let platform = core.push.clone()?;
        let limiter = core.rate_limiter.clone();
        Some(Self {
            sender: Sender::new(core.clone(), platform, limiter, id, cfg),
            core,
            poll: IDLE_POLL,
        })
    }

    pub fn id(&self) -> &str {
        self.sender.worker()
    }

    /// Test hook: see `Sender::crash_after_send`.
    pub fn crash_after_send(mut self, hook: Arc<dyn Fn() -> bool + Send + Sync>) -> Self {
        self.sender = self.sender.crash_after_send(hook);
        self
    }

    /// One pass without waiting: what tests call until it reports nothing claimed.
    pub async fn run_once(&self) -> anyhow::Result<PassReport> {
        self.pass(&|| false).await
    }

    /// One pass of the sender, in a span of its own (`pass.id`), counted and timed.
    async fn pass(&self, stop: &Stop<'_>) -> anyhow::Result<PassReport> {
        let span = tracing::info_span!(
            "push.pass",
            worker = %self.id(),
            pass.id = %fingertip_core::trace::new_id()
        );
        let started = std::time::Instant::now();
        let r = self.sender.pass(stop).instrument(span).await;
        fingertip_core::metrics::worker_pass("push", started.elapsed().as_secs_f64(), r.is_err());
        Ok(r?)
    }

    /// Passes until `stop`; a pass that claimed nothing (or failed) is followed by `poll`.
    pub async fn run(self, stop: CancellationToken) {
        let cfg = self.sender.config();
        tracing::info!(
            worker = %self.id(),
            concurrency = cfg.concurrency,
            wechat_rate = cfg.wechat_rate.per_sec,
            wecom_rate = cfg.wecom_rate.per_sec,
            limiter = self.sender.limiter_name(),
            "push worker started"
        );
        while !stop.is_cancelled() {
            let is_stopped = || stop.is_cancelled();
            let idle = match self.pass(&is_stopped).await {
                Ok(r) => {
                    self.log(&r);
                    r.claimed == 0
                }
                Err(e) => {
                    if crate::outage::is_outage(&e)
                        && crate::outage::wait_for_database(&self.core, &stop).await
                    {
                        continue;
                    }
                    tracing::error!(worker = %self.id(), error = %e, "push pass failed; retrying shortly");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = stop.cancelled() => break,
                    () = tokio::time::sleep(self.poll) => {}
                }
            }
        }
        tracing::info!(worker = %self.id(), "push worker stopped");
    }

    fn log(&self, r: &PassReport) {
        if r.claimed > 0 || r.unknown > 0 {
            tracing::info!(
                worker = %self.id(),
                sent = r.sent, skipped = r.skipped, retried = r.retried,
                dead = r.dead, deferred = r.deferred, unknown = r.unknown,
                "push pass"
            );
        }
    }
}
