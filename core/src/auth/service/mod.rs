//! Logins (admin password, WeChat, WeCom's web sign-in for reading pages), token rotation,
//! logout, binding a WeChat account, and authenticating a request.

mod bootstrap;
mod console_ticket;
mod login;
mod password_link;
mod session;
mod wechat;
mod wecom;

pub use bootstrap::ensure_admin;
pub use console_ticket::{
    NewTicket, TICKET_POLLS_PER_ADDRESS, TICKET_TTL_SECS, TICKETS_PER_ADDRESS, TicketState,
    approve_ticket, count_ticket_poll, finish_ticket, start_ticket, ticket_state,
};
pub use login::{
    Client, ConsoleSession, LOGINS_PER_ADDRESS, LOGINS_PER_USERNAME, admin_login, console_login,
};
pub use password_link::{
    LINK_TTL_HOURS, MIN_PASSWORD_CHARS, NewLink, create_password_link, password_link_member,
    set_password_by_link,
};
pub use session::{
    TokenPair, authenticate, authenticate_console, logout_refresh, logout_session, refresh,
};
pub use wechat::{BINDS_PER_ACCOUNT, BINDS_PER_ADDRESS, LoginOutcome, bind, wechat_login};
pub use wecom::{MAX_CODE, ReaderSignIn, sign_in_state, wecom_authorize_url, wecom_reader_sign_in};
