//! Logins, token rotation, logout, binding a WeChat account, and authenticating a request.

mod bootstrap;
mod login;
mod session;
mod wechat;

pub use bootstrap::ensure_admin;
pub use login::{Client, LOGINS_PER_ADDRESS, LOGINS_PER_USERNAME, admin_login};
pub use session::{TokenPair, authenticate, logout_refresh, logout_session, refresh};
pub use wechat::{BINDS_PER_ACCOUNT, BINDS_PER_ADDRESS, LoginOutcome, bind, wechat_login};
