//! The sender of one push worker and what its parts share: the delivery row, the stop check
//! and the test hook.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fingertip_platform::PushPlatform;

use super::config::SendConfig;
use crate::Core;
use crate::entities::push_deliveries;
use crate::ports::rate_limit::RateLimiter;

/// A delivery row.
pub(super) type Row = push_deliveries::Model;

/// Asked between units: `true` when the worker is stopping.
pub type Stop<'a> = dyn Fn() -> bool + Sync + 'a;

/// Test hook, asked after a unit's sends came back and before their outcomes are recorded.
pub type CrashHook = Arc<dyn Fn() -> bool + Send + Sync>;

/// The sender of one worker: what a pass needs, built once by the worker.
pub struct Sender {
    pub(super) core: Arc<Core>,
    pub(super) platform: Arc<dyn PushPlatform>,
    pub(super) limiter: Arc<dyn RateLimiter>,
    /// This worker's id, written as the lease owner.
    pub(super) worker: String,
    pub(super) cfg: SendConfig,
    pub(super) crash_after_send: Option<CrashHook>,
}

impl Sender {
    pub fn new(
        core: Arc<Core>,
        platform: Arc<dyn PushPlatform>,
        limiter: Arc<dyn RateLimiter>,
        worker: impl Into<String>,
        cfg: SendConfig,
    ) -> Self {
        Self {
            core,
            platform,
            limiter,
            worker: worker.into(),
            cfg,
            crash_after_send: None,
        }
    }

    /// Test hook: returning `true` makes the sender stop right after a unit's sends came
    /// back, recording nothing, as a worker killed there would.
    pub fn crash_after_send(mut self, hook: CrashHook) -> Self {
        self.crash_after_send = Some(hook);
        self
    }

    pub fn worker(&self) -> &str {
        &self.worker
    }

    pub fn config(&self) -> &SendConfig {
        &self.cfg
    }

    /// Which rate limiter this sender reserves its sends with (for the start-up log).
    pub fn limiter_name(&self) -> &'static str {
        self.limiter.name()
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        self.core.now()
    }
}
