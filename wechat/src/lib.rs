//! Clients of the WeChat and WeCom server APIs used by Fingertip, and the `fingertip-platform`
//! ports implemented over them ([`Platform`] for pushes, [`WechatClient`] for logins). The
//! binary builds them and hands them to the core as those ports; the core never sees this crate.
//!
//! - [`WechatClient::code2session`] exchanges a `wx.login` code for an openid;
//!   [`WechatError::class`] tells the API layer how to answer (400 / 429 / 503 / 502).
//! - [`WechatClient::send_subscribe`] sends a mini-program subscribe message;
//!   [`WecomClient::send_textcard`] a WeCom app message. [`WechatError::disposition`]
//!   tells the push sender what the failure means ([`fingertip_platform::Disposition`]).
//! - [`WecomClient::authorize_url`] and [`WecomClient::user_identity`] tell a web page which
//!   WeCom member opened it (web OAuth, `snsapi_base`).
//! - The subscribe keyword rules live in `fingertip_platform::keywords` (the core fits values
//!   with them; the mock validates with them), and the mock of both platforms in the
//!   `fingertip-wechat-mock` crate.
//!
//! # Access tokens
//!
//! Both clients cache their access token in a [`TokenStore`] ([`MemoryTokenStore`] by default;
//! pass a shared one with `with_token_store` so that all processes use one token):
//!
//! - WeChat: `POST /cgi-bin/stable_token` in normal mode (never `force_refresh`), key
//!   `wechat:stable_token:{appid}`. WeCom: `GET /cgi-bin/gettoken`, key
//!   `wecom:token:{corpid}:{agentid}` (each app has its own token).
//! - The token is used until fewer than 300 s of it remain; then one caller (the holder of
//!   the store's lease lock) fetches a new one while the others keep using the old one.
//!   With no usable token cached, the callers without the lock wait for the refresher.
//! - On 40001/40014/42001 the client deletes the cached token only if it is still the one
//!   that failed, gets a fresh one, and retries the call exactly once.
//! - "Now" comes from an injectable clock (`with_clock`), in unix seconds.
//!
//! Secrets (`secret`, `session_key`, access tokens) never appear in `Debug` or `Display`
//! output; errors never carry a request URL.

mod client;
mod config;
pub mod envelope;
mod error;
mod ports;
mod subscribe;
pub mod token;
pub mod wecom;
mod wecom_oauth;

pub use client::{Code2Session, WechatClient, http_client};
pub use config::WechatConfig;
pub use error::WechatError;
pub use ports::Platform;
pub use subscribe::SubscribeMessage;
pub use token::{CachedToken, MemoryTokenStore, StoreError, TokenStore, UnixClock, system_clock};
pub use wecom::{TextCard, WecomClient, WecomConfig, WecomSendResult};
pub use wecom_oauth::WecomIdentity;
