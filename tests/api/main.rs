//! Black-box tests through HTTP against the real server on port 0, each with a fresh database:
//! a SQLite file by default; a fresh PostgreSQL schema (and a private Redis key prefix) when
//! FINGERTIP_TEST_DATABASE_URL (and FINGERTIP_TEST_REDIS_URL) are set.

// A panic is how a test reports failure; the numbers a test counts are small.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod fixtures;
mod helpers;
mod requests;

mod abuse;
mod access;
mod audit;
mod auth;
mod broadcasts;
mod care;
mod compliance;
mod concurrency;
mod console;
mod disclosures;
mod errors;
mod feedback;
mod inbox;
mod meeting_series;
mod meetings;
mod ops;
mod org;
mod outage;
mod paging;
mod posts;
mod push;
mod reading;
mod recurrence;
mod scope;
mod study;
mod study_plan;
mod surveys;
mod wechat_login;
mod ws;
