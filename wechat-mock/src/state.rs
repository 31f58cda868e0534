//! The mock's state: issued codes, tokens, templates and grants, WeCom agents and users,
//! fault injection, call and send counters, its clock, and the knobs tests turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use uuid::Uuid;

use super::oauth::{Authorize, Oauth, WecomViewer};
use super::sends::{Reject, SendStats, Sends, SentMessage, WecomAccepted};
use super::tokens::{DEFAULT_TOKEN_TTL, Owner, TokenProblem, Tokens};

/// A `wx.login` code is valid this long (WECHAT.md §1).
pub const CODE_TTL: Duration = Duration::from_secs(300);
/// jscode2session calls allowed per openid per minute before 45011.
pub const DEFAULT_MINUTE_LIMIT: u32 = 100;
/// Codes older than this are forgotten (they would answer 40029 either way).
const CODE_RETENTION: Duration = Duration::from_secs(600);
const MINUTE: Duration = Duration::from_secs(60);

/// Handle to the mock's state. Clones share it, including with running servers.
#[derive(Clone)]
pub struct MockWechat {
    inner: Arc<Mutex<State>>,
}

struct State {
    appid: String,
    secret: String,
    /// Added to `Instant::now()`; moved forward by [`MockWechat::advance`].
    offset: Duration,
    latency: Duration,
    minute_limit: u32,
    codes: HashMap<String, IssuedCode>,
    unionids: HashMap<String, String>,
    faults: HashMap<String, Fault>,
    calls: HashMap<String, u64>,
    /// Per-openid fixed one-minute windows: (window start, calls in it).
    minute: HashMap<String, (Instant, u32)>,
    token_ttl: Duration,
    tokens: Tokens,
    /// Successful token answers, by path.
    token_fetches: HashMap<String, u64>,
    sends: Sends,
    oauth: Oauth,
}

struct IssuedCode {
    openid: String,
    issued_at: Instant,
    used: bool,
    blocked: bool,
}

struct Fault {
    errcode: i64,
    remaining: u32,
}

/// A successful login, as the mock answers it.
pub(crate) struct Login {
    pub openid: String,
    pub unionid: Option<String>,
    pub session_key: String,
}

/// The jscode2session query parameters (absent ones are `None`).
pub(crate) struct LoginParams<'a> {
    pub appid: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub js_code: Option<&'a str>,
    pub grant_type: Option<&'a str>,
}

impl MockWechat {
    /// A mock mini-program that accepts exactly this appid and secret.
    pub fn new(appid: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State {
                appid: appid.into(),
                secret: secret.into(),
                offset: Duration::ZERO,
                latency: Duration::ZERO,
                minute_limit: DEFAULT_MINUTE_LIMIT,
                codes: HashMap::new(),
                unionids: HashMap::new(),
                faults: HashMap::new(),
                calls: HashMap::new(),
                minute: HashMap::new(),
                token_ttl: DEFAULT_TOKEN_TTL,
                tokens: Tokens::default(),
                token_fetches: HashMap::new(),
                sends: Sends::default(),
                oauth: Oauth::default(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves the mock's clock forward (expires codes and tokens, resets minute counters)
    /// without sleeping. Send rates (`peak_per_second`) are measured in real time.
    pub fn advance(&self, d: Duration) {
        let mut s = self.lock();
        s.offset = s.offset.saturating_add(d);
    }

    /// A fresh single-use login code for `openid`, as `wx.login` would hand out.
    pub fn issue_code(&self, openid: &str) -> String {
        self.insert_code(openid, false)
    }

    /// A code that WeChat's risk control blocks (answers 40226).
    pub fn issue_blocked_code(&self, openid: &str) -> String {
        self.insert_code(openid, true)
    }

    /// Makes successful logins of `openid` also return this unionid.
    pub fn set_unionid(&self, openid: &str, unionid: &str) {
        self.lock()
            .unionids
            .insert(openid.to_owned(), unionid.to_owned());
    }

    /// The next `count` requests to `path` (e.g. `/sns/jscode2session`) answer `errcode`
    /// before any other check. Replaces an earlier fault on that path; `count == 0` clears it.
    pub fn fail_next(&self, path: &str, errcode: i64, count: u32) {
        let mut s = self.lock();
        if count == 0 {
            s.faults.remove(path);
        } else {
            s.faults.insert(
                path.to_owned(),
                Fault {
                    errcode,
                    remaining: count,
                },
            );
        }
    }

    /// Delay added to every WeChat route (not the `/mock/` routes). Requests wait
    /// concurrently: the delay is not taken under any lock.
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// jscode2session calls per openid per minute before 45011 (default 100).
    pub fn set_minute_limit(&self, calls: u32) {
        self.lock().minute_limit = calls;
    }

    /// How many requests hit `path` (WeChat paths only; `/mock/` routes are not counted).
    pub fn calls(&self, path: &str) -> u64 {
        self.lock().calls.get(path).copied().unwrap_or(0)
    }

    /// All call counters, by path.
    pub fn all_calls(&self) -> BTreeMap<String, u64> {
        self.lock()
            .calls
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// Lifetime (`expires_in`) of tokens issued from now on (default 7200 s).
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.lock().token_ttl = ttl;
    }

    /// Every issued token expires now: API calls answer 42001 until a new one is fetched.
    pub fn expire_tokens(&self) {
        let mut s = self.lock();
        let now = s.now();
        s.tokens.expire_all(now);
    }

    /// Every issued token becomes unknown: API calls answer 40001 (WeCom: 40014) until a new
    /// one is fetched.
    pub fn invalidate_tokens(&self) {
        self.lock().tokens.invalidate_all();
    }

    /// Successful token answers on `path` (`/cgi-bin/stable_token`, `/cgi-bin/token`,
    /// `/cgi-bin/gettoken`). Unlike [`calls`](Self::calls), injected faults don't count.
    pub fn token_fetches(&self, path: &str) -> u64 {
        self.lock().token_fetches.get(path).copied().unwrap_or(0)
    }

    /// All token fetch counters, by path.
    pub fn all_token_fetches(&self) -> BTreeMap<String, u64> {
        self.lock()
            .token_fetches
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// A subscribe template and its keyword names (e.g. `["thing1", "time2"]`): a send must
    /// carry each of them. Replaces an earlier registration of `template_id`.
    pub fn register_template(&self, template_id: &str, keywords: &[&str]) {
        self.lock().sends.register_template(template_id, keywords);
    }

    /// Makes `openid` a user of the mini-program (sends to unknown openids answer 40003).
    /// Issuing a login code or a grant does this too.
    pub fn add_openid(&self, openid: &str) {
        self.lock().sends.add_openid(openid);
    }

    /// The user accepted `template_id` `n` more times: `n` more sends are allowed.
    pub fn grant_subscription(&self, openid: &str, template_id: &str, n: u32) {
        self.lock().sends.grant(openid, template_id, n);
    }

    /// Sends of `template_id` to `openid` still allowed.
    pub fn grants(&self, openid: &str, template_id: &str) -> u32 {
        self.lock().sends.grants(openid, template_id)
    }

    /// From the first call on, only these pages (path before `?`) are accepted; others
    /// answer 41030. Until then any page is.
    pub fn allow_pages(&self, pages: &[&str]) {
        self.lock().sends.allow_pages(pages);
    }

    /// A WeCom app: `gettoken` with `corpid` and `secret` issues tokens for `agentid`.
    pub fn add_wecom_agent(&self, corpid: &str, agentid: i64, secret: &str) {
        self.lock().sends.add_agent(corpid, agentid, secret);
    }

    /// Members visible to app `agentid` (case-insensitive).
    pub fn add_wecom_users(&self, agentid: i64, userids: &[&str]) {
        self.lock().sends.add_users(agentid, userids);
    }

    /// Who WeCom's OAuth page (`/connect/oauth2/authorize`) says is opening a link from now
    /// on; `None`: nobody is signed in, and the page answers an error.
    pub fn set_wecom_viewer(&self, viewer: Option<WecomViewer>) {
        self.lock().oauth.set_viewer(viewer);
    }

    /// Counters of accepted sends.
    pub fn send_stats(&self) -> SendStats {
        self.lock().sends.stats()
    }

    /// Accepted sends to an openid or (lower-cased) WeCom userid.
    pub fn sends_to(&self, user: &str) -> u64 {
        self.lock().sends.sends_to(user)
    }

    /// Accepted send requests, both APIs.
    pub fn total_sends(&self) -> u64 {
        self.lock().sends.stats().total
    }

    /// The most accepted sends within any one-second window (real time).
    pub fn peak_sends_per_second(&self) -> u64 {
        self.lock().sends.stats().peak_per_second
    }

    /// The accepted sends, oldest first (the last 100,000).
    pub fn sent(&self) -> Vec<SentMessage> {
        self.lock().sends.sent()
    }

    /// Zeroes the call, token-fetch and send counters and clears the send log. Tokens,
    /// templates, grants and users stay.
    pub fn reset_counters(&self) {
        let mut s = self.lock();
        s.calls.clear();
        s.token_fetches.clear();
        s.sends.reset_counters();
    }

    fn insert_code(&self, openid: &str, blocked: bool) -> String {
        let code = Uuid::new_v4().simple().to_string();
        let mut s = self.lock();
        s.sends.add_openid(openid);
        let now = s.now();
        s.codes
            .retain(|_, c| now.saturating_duration_since(c.issued_at) < CODE_RETENTION);
        s.codes.insert(
            code.clone(),
            IssuedCode {
                openid: openid.to_owned(),
                issued_at: now,
                used: false,
                blocked,
            },
        );
        code
    }

    pub(crate) fn record_call(&self, path: &str) {
        *self.lock().calls.entry(path.to_owned()).or_insert(0) += 1;
    }

    pub(crate) fn latency(&self) -> Duration {
        self.lock().latency
    }

    /// Consumes one injected failure for `path`, if any.
    pub(crate) fn take_fault(&self, path: &str) -> Option<i64> {
        let mut s = self.lock();
        let fault = s.faults.get_mut(path)?;
        let errcode = fault.errcode;
        fault.remaining = fault.remaining.saturating_sub(1);
        if fault.remaining == 0 {
            s.faults.remove(path);
        }
        Some(errcode)
    }

    /// The jscode2session state machine (WECHAT.md §1). `Err` is the errcode to answer.
    pub(crate) fn login(&self, p: &LoginParams<'_>) -> Result<Login, i64> {
        let mut s = self.lock();
        match p.appid {
            None | Some("") => return Err(41002),
            Some(a) if a != s.appid => return Err(40013),
            Some(_) => {}
        }
        match p.secret {
            None | Some("") => return Err(41004),
            Some(x) if x != s.secret => return Err(40125),
            Some(_) => {}
        }
        if p.grant_type != Some("authorization_code") {
            return Err(40002);
        }
        let code = match p.js_code {
            None | Some("") => return Err(41008),
            Some(c) => c,
        };
        let now = s.now();
        let openid = match s.codes.get(code) {
            None => return Err(40029),
            Some(c) => c.openid.clone(),
        };
        if !s.count_minute(&openid, now) {
            return Err(45011);
        }
        let unionid = s.unionids.get(&openid).cloned();
        let entry = s.codes.get_mut(code).ok_or(40029_i64)?;
        if entry.blocked {
            return Err(40226);
        }
        if entry.used {
            return Err(40163);
        }
        if now.saturating_duration_since(entry.issued_at) > CODE_TTL {
            return Err(40029);
        }
        entry.used = true;
        Ok(Login {
            openid,
            unionid,
            session_key: Uuid::new_v4().simple().to_string(),
        })
    }
}

impl MockWechat {
    /// `GET /cgi-bin/token` (classic): a new token on every call.
    pub(crate) fn classic_token(&self, p: &TokenParams<'_>) -> Result<(String, u64), i64> {
        let mut s = self.lock();
        s.check_app(p)?;
        let (now, ttl) = (s.now(), s.token_ttl);
        let answer = s.tokens.classic(now, ttl);
        s.count_fetch("/cgi-bin/token");
        Ok(answer)
    }

    /// `POST /cgi-bin/stable_token`.
    pub(crate) fn stable_token(
        &self,
        p: &TokenParams<'_>,
        force_refresh: bool,
    ) -> Result<(String, u64), i64> {
        let mut s = self.lock();
        s.check_app(p)?;
        let (now, ttl) = (s.now(), s.token_ttl);
        let answer = s.tokens.stable(now, ttl, force_refresh)?;
        s.count_fetch("/cgi-bin/stable_token");
        Ok(answer)
    }

    /// `GET /cgi-bin/gettoken` (WeCom).
    pub(crate) fn wecom_token(
        &self,
        corpid: Option<&str>,
        secret: Option<&str>,
    ) -> Result<(String, u64), i64> {
        let mut s = self.lock();
        let agentid = s.sends.agent_for(corpid, secret)?;
        let (now, ttl) = (s.now(), s.token_ttl);
        let answer = s.tokens.wecom(agentid, now, ttl);
        s.count_fetch("/cgi-bin/gettoken");
        Ok(answer)
    }

    /// `POST /cgi-bin/message/subscribe/send`: token, then body, then the send rules.
    pub(crate) fn subscribe_send(
        &self,
        token: Option<&str>,
        body: Result<Value, i64>,
    ) -> Result<u64, Reject> {
        let mut s = self.lock();
        let now = s.now();
        match s.tokens.check(token, now) {
            Ok(Owner::MiniProgram) => {}
            Ok(Owner::Wecom { .. }) | Err(TokenProblem::Unknown) => return Err(40001.into()),
            Err(TokenProblem::Missing) => return Err(41001.into()),
            Err(TokenProblem::Expired) => return Err(42001.into()),
        }
        let body = body?;
        s.sends.subscribe(&body, Instant::now())
    }

    /// `POST /cgi-bin/message/send` (WeCom).
    pub(crate) fn wecom_send(
        &self,
        token: Option<&str>,
        body: Result<Value, i64>,
    ) -> Result<WecomAccepted, Reject> {
        let mut s = self.lock();
        let now = s.now();
        let agentid = match s.tokens.check(token, now) {
            Ok(Owner::Wecom { agentid }) => agentid,
            Ok(Owner::MiniProgram) | Err(TokenProblem::Unknown) => return Err(40014.into()),
            Err(TokenProblem::Missing) => return Err(41001.into()),
            Err(TokenProblem::Expired) => return Err(42001.into()),
        };
        let body = body?;
        s.sends.wecom(&body, agentid, Instant::now())
    }
}

impl MockWechat {
    /// `GET /connect/oauth2/authorize`: where to redirect the browser, or why not.
    pub(crate) fn wecom_authorize(&self, q: &Authorize<'_>) -> Result<String, String> {
        let mut s = self.lock();
        let now = s.now();
        let State { sends, oauth, .. } = &mut *s;
        oauth.authorize(q, |agentid| sends.corpid_of(agentid), now)
    }

    /// `GET /cgi-bin/auth/getuserinfo`: the viewer behind a code, for an app's token.
    pub(crate) fn wecom_identify(
        &self,
        token: Option<&str>,
        code: Option<&str>,
    ) -> Result<WecomViewer, i64> {
        let mut s = self.lock();
        let now = s.now();
        let agentid = match s.tokens.check(token, now) {
            Ok(Owner::Wecom { agentid }) => agentid,
            Ok(Owner::MiniProgram) | Err(TokenProblem::Unknown) => return Err(40014),
            Err(TokenProblem::Missing) => return Err(41001),
            Err(TokenProblem::Expired) => return Err(42001),
        };
        let corpid = s.sends.corpid_of(agentid).ok_or(40014_i64)?;
        s.oauth.identify(code, &corpid, now)
    }
}

/// The appid/secret/grant_type of a mini-program token request (absent ones are `None`).
pub(crate) struct TokenParams<'a> {
    pub appid: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub grant_type: Option<&'a str>,
}

impl State {
    fn check_app(&self, p: &TokenParams<'_>) -> Result<(), i64> {
        if p.grant_type != Some("client_credential") {
            return Err(40002);
        }
        match p.appid {
            None | Some("") => return Err(41002),
            Some(a) if a != self.appid => return Err(40013),
            Some(_) => {}
        }
        match p.secret {
            None | Some("") => Err(41004),
            Some(x) if x != self.secret => Err(40125),
            Some(_) => Ok(()),
        }
    }

    fn count_fetch(&mut self, path: &str) {
        *self.token_fetches.entry(path.to_owned()).or_insert(0) += 1;
    }

    fn now(&self) -> Instant {
        let real = Instant::now();
        real.checked_add(self.offset).unwrap_or(real)
    }

    /// Counts one call for `openid`; false when it exceeds the per-minute limit.
    fn count_minute(&mut self, openid: &str, now: Instant) -> bool {
        let limit = self.minute_limit;
        let window = self.minute.entry(openid.to_owned()).or_insert((now, 0));
        if now.saturating_duration_since(window.0) >= MINUTE {
            *window = (now, 0);
        }
        window.1 = window.1.saturating_add(1);
        window.1 <= limit
    }
}
