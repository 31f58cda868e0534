//! The messaging platform as the core sees it: the ports it calls (login, pushes, the
//! access-token store) and the platform's published rules it must follow (subscribe keyword
//! values, the daily quota reset). No I/O and no HTTP here: `fingertip-wechat` implements the
//! ports over the real WeChat and WeCom APIs, `fingertip-wechat-mock` imitates those APIs for
//! tests, and the binary wires one into the core. So the core depends on this crate and never on
//! the client, and a platform outcome has one type from the client to the delivery row
//! ([`push::Disposition`]).

pub mod keywords;
pub mod login;
pub mod push;
pub mod quota;
pub mod token;

pub use login::{ErrorClass, LoginFailure, LoginIdentity, WechatLogin, WecomSignIn, WecomViewer};
pub use push::{Disposition, PushFailure, PushPlatform, WechatPush, WecomAccepted, WecomPush};
pub use quota::next_daily_reset;
pub use token::{CachedToken, StoreError, TokenStore, UnixClock, system_clock};
