//! What a push worker does with due deliveries, one pass at a time (`Sender::pass`; the loop
//! around it is `fingertip_workers::PushWorker`).
//!
//! 1. **Claim** due `pending` rows with a lease (a conditional `UPDATE`, so two workers never
//!    hold the same row), at most `claim` per pass (`claim.rs`).
//! 2. **Decide** per row without calling anyone: a canceled broadcast, an unbound member, no
//!    template, or no WeChat credit make it `skipped`; a WeCom member over the per-member budget
//!    (30 a minute, 1,000 an hour, beyond which WeCom drops silently) is put back for later.
//! 3. **Send** in units: a unit is marked `sending` (and its attempt counted) in one
//!    statement *before* anything goes out, then sent with bounded concurrency under the app's
//!    rate limit, then the answers are recorded in one transaction. A worker that dies between
//!    the two leaves `sending` rows whose lease runs out; they become `unknown` and are never
//!    sent again, because the platform may already have accepted them.
//! 4. **Record** (`outcome.rs`): accepted → `sent` with the msgid (the WeChat credit was used
//!    when the row was marked `sending`; an answer that shows the message did not arrive gives
//!    it back, an unknown outcome keeps it used); 43101 → `skipped` and the credit set to 0;
//!    transient errors → `pending` again after an exponential backoff with jitter (45009:
//!    after the next daily reset, `config.rs`), until `max_attempts`; permanent errors and
//!    exhausted retries → `dead`, with the last error.
//!
//! Steps 2–4 are one pipeline (`pipeline.rs`) for every channel; what differs per channel is
//! the `Channel` trait (`channel.rs`), implemented by `wechat.rs` and `wecom.rs`. What the rows
//! of a pass refer to is loaded once (`context.rs`).

mod channel;
mod claim;
mod config;
mod context;
mod outcome;
mod pipeline;
mod wechat;
mod wecom;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use claim::recover_in_doubt;
pub use config::SendConfig;
pub(crate) use context::Context;
pub use outcome::PassReport;
pub use wecom::budget_frees_at;

use crate::Core;
use crate::broadcasts::Channel;
use crate::entities::push_deliveries;
use crate::error::CoreResult;
use crate::ports::rate_limit::RateLimiter;
use fingertip_platform::PushPlatform;
use outcome::Outcome;
use pipeline::Ran;

/// A delivery row.
type Row = push_deliveries::Model;

/// Asked between units: `true` when the worker is stopping.
pub type Stop<'a> = dyn Fn() -> bool + Sync + 'a;

/// Test hook, asked after a unit's sends came back and before their outcomes are recorded.
pub type CrashHook = Arc<dyn Fn() -> bool + Send + Sync>;

/// The sender of one worker: what a pass needs, built once by the worker.
pub struct Sender {
    core: Arc<Core>,
    platform: Arc<dyn PushPlatform>,
    limiter: Arc<dyn RateLimiter>,
    /// This worker's id, written as the lease owner.
    worker: String,
    cfg: SendConfig,
    crash_after_send: Option<CrashHook>,
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

    fn now(&self) -> DateTime<Utc> {
        self.core.now()
    }

    /// One pass: recover rows of dead workers, claim, then decide, send and record each
    /// channel's rows. `stop` is asked between units; claimed rows not sent are released.
    pub async fn pass(&self, stop: &Stop<'_>) -> CoreResult<PassReport> {
        let mut report = PassReport {
            unknown: usize::try_from(recover_in_doubt(&self.core).await?).unwrap_or(usize::MAX),
            ..Default::default()
        };
        let rows = self.claim().await?;
        report.claimed = rows.len();
        if rows.is_empty() {
            return Ok(report);
        }
        let (wechat_rows, rest): (Vec<_>, Vec<_>) =
            rows.into_iter().partition(|r| r.channel == Channel::Wechat);
        let (wecom_rows, other): (Vec<_>, Vec<_>) =
            rest.into_iter().partition(|r| r.channel == Channel::Wecom);
        if !other.is_empty() {
            let outcomes: Vec<_> = other
                .into_iter()
                .map(|r| {
                    let o = Outcome::dead(format!("unknown channel {:?}", r.channel.as_str()));
                    (r, o)
                })
                .collect();
            self.record(&outcomes, &mut report, false).await?;
        }
        let all: Vec<&Row> = wechat_rows.iter().chain(wecom_rows.iter()).collect();
        let ctx = Context::load(&self.core, &all).await?;
        let rows = wechat_rows;
        if !rows.is_empty() {
            match self.platform.wechat_app() {
                None => {
                    let why = "wechat is not configured on this server";
                    self.dead_all(rows, why, &mut report).await?;
                }
                Some(app) => {
                    let channel = wechat::Wechat::load(self, &ctx, app, &rows).await?;
                    if self.run(channel, rows, &mut report, stop).await? == Ran::Killed {
                        return Ok(report);
                    }
                }
            }
        }
        let rows = wecom_rows;
        if !rows.is_empty() {
            match self.platform.wecom_app() {
                None => {
                    let why = "wecom is not configured on this server";
                    self.dead_all(rows, why, &mut report).await?;
                }
                Some(app) => {
                    let channel = wecom::Wecom::load(self, &ctx, app, &rows).await?;
                    self.run(channel, rows, &mut report, stop).await?;
                }
            }
        }
        Ok(report)
    }
}
