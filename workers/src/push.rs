//! The push worker: every pass sends the due deliveries it can claim (see
//! `fingertip_core::push::send` for the rules), then waits a poll interval when there was
//! nothing to do.

use std::sync::Arc;
use std::time::Duration;

use fingertip_core::Core;
use fingertip_core::push::send::{PassReport, SendConfig, Sender};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub struct PushWorker {
    sender: Sender,
    pub poll: Duration,
}

impl PushWorker {
    /// `None` when no push platform is configured: there is nothing to push to.
    pub fn new(core: Arc<Core>, id: impl Into<String>, cfg: SendConfig) -> Option<Self> {
        let platform = core.push.clone()?;
        Some(Self {
            sender: Sender {
                limiter: core.rate_limiter.clone(),
                core,
                platform,
                worker: id.into(),
                cfg,
                crash_after_send: None,
            },
            poll: Duration::from_secs(1),
        })
    }

    pub fn id(&self) -> &str {
        &self.sender.worker
    }

    /// Test hook: see `Sender::crash_after_send`.
    pub fn crash_after_send(mut self, hook: Arc<dyn Fn() -> bool + Send + Sync>) -> Self {
        self.sender.crash_after_send = Some(hook);
        self
    }

    /// One pass without waiting: what tests call until it reports nothing claimed.
    pub async fn run_once(&self) -> anyhow::Result<PassReport> {
        self.pass(&|| false).await
    }

    /// One pass of the sender, in a span of its own (`pass.id`), counted and timed.
    async fn pass(&self, stop: &(dyn Fn() -> bool + Sync)) -> anyhow::Result<PassReport> {
        let span = tracing::info_span!(
            "push.pass",
            worker = %self.sender.worker,
            pass.id = %fingertip_core::trace::new_id()
        );
        let started = std::time::Instant::now();
        let r = self.sender.pass(stop).instrument(span).await;
        fingertip_core::metrics::worker_pass("push", started.elapsed().as_secs_f64(), r.is_err());
        Ok(r?)
    }

    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(
            worker = %self.sender.worker,
            concurrency = self.sender.cfg.concurrency,
            wechat_rate = self.sender.cfg.wechat_rate.per_sec,
            wecom_rate = self.sender.cfg.wecom_rate.per_sec,
            limiter = self.sender.limiter.name(),
            "push worker started"
        );
        while !stop.is_cancelled() {
            let is_stopped = || stop.is_cancelled();
            let idle = match self.pass(&is_stopped).await {
                Ok(r) => {
                    if r.claimed > 0 || r.unknown > 0 {
                        tracing::info!(
                            worker = %self.sender.worker,
                            sent = r.sent, skipped = r.skipped, retried = r.retried,
                            dead = r.dead, deferred = r.deferred, unknown = r.unknown,
                            "push pass"
                        );
                    }
                    r.claimed == 0
                }
                Err(e) => {
                    tracing::error!(worker = %self.sender.worker, error = %e, "push pass failed; retrying shortly");
                    true
                }
            };
            if idle {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(self.poll) => {}
                }
            }
        }
        tracing::info!(worker = %self.sender.worker, "push worker stopped");
    }
}
