//! [`Core`]: the handle every service function takes, wired once by the binary (or a test).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::auth::tokens::TokenKeys;
use crate::clock::Clock;
use crate::ports::{JobQueue, PubSub, RateLimiter, Throttle};
use crate::settings::Settings;
use fingertip_platform::{PushPlatform, WechatLogin, WecomSignIn};

pub struct Core {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub queue: Arc<dyn JobQueue>,
    /// Live-update events between processes (in-process when there is no Redis).
    pub pubsub: Arc<dyn PubSub>,
    pub tokens: TokenKeys,
    /// Who a `wx.login` code belongs to (the WeChat client, or its mock); `None` when no
    /// WeChat credentials are configured, and then WeChat login answers 503.
    pub login: Option<Arc<dyn WechatLogin>>,
    /// Where pushes go: the WeChat/WeCom clients (or their mock); `None` when neither is
    /// configured, and then no push channel is either.
    pub push: Option<Arc<dyn PushPlatform>>,
    /// Which WeCom member opens a reading page (WeCom's web sign-in, or its mock); `None` when
    /// WeCom is not configured, and then the reading pages say so.
    pub wecom_sign_in: Option<Arc<dyn WecomSignIn>>,
    /// The shared per-app rate limit of pushes (in Redis when configured).
    pub rate_limiter: Arc<dyn RateLimiter>,
    /// Attempt counts for the abuse limits (logins, invite codes), in Redis when configured.
    pub throttle: Arc<dyn Throttle>,
    /// Argon2 with a bounded number of hashes at once and their working memory kept: a flood
    /// of logins queues here instead of taking the process's memory.
    pub passwords: Arc<crate::auth::password::Passwords>,
    /// Whether the database answers, as this process last found (see `db::health`): the API
    /// refuses requests that need it while it is down, and the workers wait.
    pub db_health: Arc<crate::db::DbHealth>,
    /// Sessions this process checked within the last two seconds (see `auth::cache`).
    pub sessions: Arc<crate::auth::cache::SessionCache>,
    /// What inbox lines show of posts and broadcasts, read within the last two seconds (see
    /// `inbox::headers`).
    pub headers: Arc<crate::inbox::headers::Headers>,
    /// Inbox pages asked for at once, read together (see `inbox::page`).
    pub pages: Arc<crate::inbox::page::PageReads>,
    pub settings: Settings,
}

impl Core {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
