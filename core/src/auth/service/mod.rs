//! Logins (admin password, WeChat, WeCom's web sign-in for reading pages), token rotation,
//! logout, binding a WeChat account, and authenticating a request.

mod bootstrap;
mod login;
mod session;
mod wechat;
mod wecom;

pub use bootstrap::ensure_admin;
pub use login::{Client, LOGINS_PER_ADDRESS, LOGINS_PER_USERNAME, admin_login};
pub use session::{TokenPair, authenticate, logout_refresh, logout_session, refresh};
pub use wechat::{BINDS_PER_ACCOUNT, BINDS_PER_ADDRESS, LoginOutcome, bind, wechat_login};
pub use wecom::{MAX_CODE, ReaderSignIn, sign_in_state, wecom_authorize_url, wecom_reader_sign_in};
