//! How the sender paces itself: claim size, lease, concurrency, rate limits, the WeCom
//! per-member budget, and when a failed push is tried again (backoff with jitter, or after
//! WeChat's daily reset).

use chrono::{DateTime, Duration, Utc};

use crate::ports::rate_limit::Limit;

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
        jittered(Duration::milliseconds(capped))
    }

    /// WeChat's daily quota resets at midnight Beijing time (the platform client knows when);
    /// try again a few minutes after it.
    pub fn after_daily_reset(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let reset = fingertip_platform::next_daily_reset(now.timestamp());
        DateTime::from_timestamp(reset, 0).unwrap_or(now + Duration::days(1))
            + jittered(Duration::seconds(300))
    }
}

/// `d` times a random factor in [0.5, 1.0] (see [`jitter_factor`]), to the millisecond.
fn jittered(d: Duration) -> Duration {
    Duration::from_std(d.to_std().unwrap_or_default().mul_f64(jitter_factor())).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
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
