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
mod sender;
mod wechat;
mod wecom;

pub use claim::recover_in_doubt;
pub use config::SendConfig;
pub(crate) use context::Context;
pub use outcome::PassReport;
use sender::Row;
pub use sender::{CrashHook, Sender, Stop};
pub use wecom::budget_frees_at;

use crate::broadcasts::Channel;
use crate::error::CoreResult;
use outcome::Outcome;
use pipeline::Ran;

impl Sender {
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
