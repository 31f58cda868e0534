//! How a fan-out worker batches and leases, with the defaults and bounds the settings take.

use chrono::Duration;

#[derive(Debug, Clone, Copy)]
pub struct FanoutConfig {
    /// Roster members per window (one transaction each); a window's recipients are the
    /// audience's members among them.
    pub batch: u64,
    /// How long a claim holds without renewal before another worker may take over.
    pub lease: Duration,
    /// Windows written at once, each in its own transaction on its own connection, committed
    /// in member order (PostgreSQL; SQLite has one writer and writes one at a time).
    pub streams: u64,
}

/// Roster members per fan-out transaction by default; the bounds `FINGERTIP_FANOUT_BATCH` may take.
pub const DEFAULT_BATCH: u64 = 2000;
pub const BATCH_RANGE: std::ops::RangeInclusive<u64> = 50..=10_000;
/// How long a claim holds without renewal by default (a killed worker's broadcast is taken over
/// after at most this long); the bounds `FINGERTIP_FANOUT_LEASE_SECS` may take.
pub const DEFAULT_LEASE_SECS: i64 = 60;
pub const LEASE_SECS_RANGE: std::ops::RangeInclusive<u64> = 5..=3600;
/// Windows written at once by default: the database's second core writes the next window
/// while the first commits; the bounds `FINGERTIP_FANOUT_STREAMS` may take.
pub const DEFAULT_STREAMS: u64 = 2;
pub const STREAMS_RANGE: std::ops::RangeInclusive<u64> = 1..=8;

impl FanoutConfig {
    /// Windows written at once on `backend`: `streams` on PostgreSQL, one on SQLite (one
    /// writer).
    pub fn streams_on(&self, backend: sea_orm::DatabaseBackend) -> u64 {
        match backend {
            sea_orm::DatabaseBackend::Postgres => Ord::max(self.streams, 1),
            _ => 1,
        }
    }
}

impl Default for FanoutConfig {
    fn default() -> Self {
        Self {
            batch: DEFAULT_BATCH,
            lease: Duration::seconds(DEFAULT_LEASE_SECS),
            streams: DEFAULT_STREAMS,
        }
    }
}
