//! How a fan-out worker batches and leases, with the defaults and bounds the settings take.

use chrono::Duration;

#[derive(Debug, Clone, Copy)]
pub struct FanoutConfig {
    /// Recipients per batch (one transaction each).
    pub batch: u64,
    /// How long a claim holds without renewal before another worker may take over.
    pub lease: Duration,
}

/// Recipients written per transaction by default; the bounds `FINGERTIP_FANOUT_BATCH` may take.
pub const DEFAULT_BATCH: u64 = 2000;
pub const BATCH_RANGE: std::ops::RangeInclusive<u64> = 50..=10_000;
/// How long a claim holds without renewal by default (a killed worker's broadcast is taken over
/// after at most this long); the bounds `FINGERTIP_FANOUT_LEASE_SECS` may take.
pub const DEFAULT_LEASE_SECS: i64 = 60;
pub const LEASE_SECS_RANGE: std::ops::RangeInclusive<u64> = 5..=3600;

impl Default for FanoutConfig {
    fn default() -> Self {
        Self {
            batch: DEFAULT_BATCH,
            lease: Duration::seconds(DEFAULT_LEASE_SECS),
        }
    }
}
