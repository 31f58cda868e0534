//! Client for the WeChat server APIs used by Fingertip, plus an in-process mock of them.
//!
//! - [`WechatClient::code2session`] exchanges a `wx.login` code for an openid.
//! - [`WechatError::class`] tells the API layer how to answer (400 / 429 / 503 / 502).
//! - [`mock::MockWechat`] is a small hyper server that imitates `api.weixin.qq.com` for tests
//!   and local runs.
//!
//! Secrets (`secret`, `session_key`) never appear in `Debug` or `Display` output.

mod client;
mod config;
pub mod envelope;
mod error;
pub mod keywords;
pub mod mock;

pub use client::{Code2Session, WechatClient, http_client};
pub use config::WechatConfig;
pub use error::{ErrorClass, WechatError};
