//! The mock's state: issued codes, fault injection, call counters, its clock, and the
//! knobs tests turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

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
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the mock's clock forward (expires codes, resets minute counters) without sleeping.
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

    /// Delay added to every WeChat route (not the `/mock/` routes).
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

    fn insert_code(&self, openid: &str, blocked: bool) -> String {
        let code = Uuid::new_v4().simple().to_string();
        let mut s = self.lock();
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

impl State {
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
