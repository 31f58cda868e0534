//! What the core needs to know about its deployment, as a tree read once from `FINGERTIP_*`
//! variables (and `.env`, loaded by the binary) and validated at start-up with one line per
//! bad value. Each section's defaults belong to the code that uses them (the fan-out's lease and
//! batch to `broadcasts::fanout`, the push limits to `push::send`, …). Secrets are
//! `secrecy::SecretString`: they never print. The process's own settings (the address to listen
//! on, log format) are the binary's.

pub mod env;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};

pub use env::{Env, redact_url};

use crate::broadcasts::fanout::FanoutConfig;
use crate::push::send::SendConfig;

#[derive(Debug, Clone)]
pub struct Settings {
    /// `FINGERTIP_ENV=production`: refuses a generated JWT secret, logs in JSON by default.
    pub production: bool,
    /// The zone schedules are evaluated in when a broadcast or meeting names none.
    pub timezone: Tz,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    /// The mini-program; `None`: WeChat login answers 503 and there is no WeChat channel.
    pub wechat: Option<WechatSettings>,
    /// The WeCom app; `None`: no WeCom channel.
    pub wecom: Option<WecomSettings>,
    pub push: PushSettings,
    pub fanout: FanoutConfig,
    /// Where browsers reach this server (`FINGERTIP_PUBLIC_URL`, e.g.
    /// `https://fingertip.example.org`, a path prefix allowed; no trailing slash). The reading
    /// pages' sign-in comes back here; `None`: the scheme and host of each request.
    pub public_url: Option<String>,
    /// Days a member's feedback may wait for an answer before the unit's secretaries are
    /// reminded (`FINGERTIP_FEEDBACK_REMIND_DAYS`, 1 to 60, default 3).
    pub feedback_remind_days: u32,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `sqlite://…` or `postgres://…`.
    pub url: String,
    /// Longest wait for a connection from the pool (`FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS`,
    /// default 1,000): past it the request answers 503 `unavailable` instead of hanging.
    pub acquire_timeout: std::time::Duration,
    /// Longest a statement may run on PostgreSQL (`FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS`,
    /// default 30,000; 0 turns it off): set on every connection, so a runaway query frees its
    /// connection and the request answers 503.
    pub statement_timeout: Option<std::time::Duration>,
}

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `None`: the in-process queue, pub/sub and limits of the embedded shape.
    pub url: Option<String>,
    /// Prefix of every Redis key, so that several deployments (or test runs) share a Redis.
    pub prefix: String,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    /// True when no secret was configured and a random one was made for this process.
    pub jwt_secret_generated: bool,
    /// The admin created (or reset) at start-up.
    pub admin: Option<(String, SecretString)>,
}

#[derive(Debug, Clone)]
pub struct WechatSettings {
    pub appid: String,
    pub secret: SecretString,
    pub api_base: String,
}

#[derive(Debug, Clone)]
pub struct WecomSettings {
    pub corp_id: String,
    pub secret: SecretString,
    pub agent_id: i64,
    pub api_base: String,
    /// WeCom's web sign-in page (`FINGERTIP_WECOM_OAUTH_BASE`).
    pub oauth_base: String,
}

#[derive(Debug, Clone)]
pub struct PushSettings {
    pub send: SendConfig,
    /// Who pushes say they are from (a subscribe keyword with the `sender` source).
    pub sender_name: String,
    /// The page a WeCom card opens, with `{broadcast_id}`; required with WeCom.
    pub link: Option<String>,
    /// Members' quiet hours unless they set their own (`FINGERTIP_QUIET_HOURS`, by default
    /// 22:00-07:30; `off`: none), in the organisation's zone.
    pub quiet_hours: Option<crate::push::quiet::Span>,
    /// When an off-site member's daily digest goes unless they choose (`FINGERTIP_DIGEST_AT`,
    /// by default 20:00).
    pub digest_at: crate::push::quiet::Minute,
}

pub const DEFAULT_QUIET_HOURS: &str = "22:00-07:30";
pub const DEFAULT_DIGEST_AT: &str = "20:00";

pub const DEFAULT_DATABASE_URL: &str = "sqlite://fingertip.db?mode=rwc";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
pub const DEFAULT_WECOM_API_BASE: &str = "https://qyapi.weixin.qq.com";
pub const DEFAULT_WECOM_OAUTH_BASE: &str = "https://open.weixin.qq.com";
/// The reading page a WeCom card opens, under `FINGERTIP_PUBLIC_URL`.
pub const READING_PAGE_PATH: &str = "/m/broadcasts/{broadcast_id}";
pub const DEFAULT_SENDER_NAME: &str = "党支部";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Vec<String>> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, which returns a variable's value if it is set. Empty
    /// values count as unset. Returns every problem found, one line each.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut env = Env::new(get);
        let s = Self::read(&mut env);
        env.finish(s)
    }

    /// Reads every section from `env`, adding a line to `env.errors` per bad value (so that
    /// the binary can read its own settings from the same `env` and report all at once).
    pub fn read(env: &mut Env) -> Self {
        let production = match env.get("FINGERTIP_ENV").as_deref() {
            None | Some("development" | "dev" | "test") => false,
            Some("production" | "prod") => true,
            Some(other) => {
                env.error(format!(
                    "FINGERTIP_ENV={other:?} must be production or development"
                ));
                false
            }
        };
        let tz_raw = env
            .get("FINGERTIP_TIMEZONE")
            .unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone = tz_raw.parse::<Tz>().unwrap_or_else(|_| {
            env.error(format!(
                "FINGERTIP_TIMEZONE={tz_raw:?} is not an IANA time zone such as Asia/Shanghai"
            ));
            chrono_tz::Asia::Shanghai
        });
        let wecom = read_wecom(env);
        let public_url = env
            .get("FINGERTIP_PUBLIC_URL")
            .map(|_| env.base_url("FINGERTIP_PUBLIC_URL", ""));
        let feedback_remind_days =
            in_range(env.number("FINGERTIP_FEEDBACK_REMIND_DAYS", 3, 1..=60), 3);
        Settings {
            production,
            timezone,
            feedback_remind_days,
            database: read_database(env),
            redis: read_redis(env),
            auth: read_auth(env, production),
            wechat: read_wechat(env),
            push: read_push(env, wecom.is_some(), public_url.as_deref()),
            wecom,
            fanout: read_fanout(env),
            public_url,
        }
    }
}

fn read_database(env: &mut Env) -> DatabaseSettings {
    let url = env
        .get("FINGERTIP_DATABASE_URL")
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        env.error(format!(
            "FINGERTIP_DATABASE_URL must start with sqlite: or postgres:// (got {:?})",
            redact_url(&url)
        ));
    }
    let acquire_ms = env.number("FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS", 1_000, 100..=60_000);
    let statement_ms = env.number(
        "FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS",
        30_000,
        0..=3_600_000,
    );
    DatabaseSettings {
        url,
        acquire_timeout: std::time::Duration::from_millis(acquire_ms),
        statement_timeout: (statement_ms > 0)
            .then(|| std::time::Duration::from_millis(statement_ms)),
    }
}

fn read_redis(env: &mut Env) -> RedisSettings {
    let url = env.get("FINGERTIP_REDIS_URL");
    if let Some(u) = &url
        && !(u.starts_with("redis://") || u.starts_with("rediss://"))
    {
        env.error(format!(
            "FINGERTIP_REDIS_URL must start with redis:// or rediss:// (got {:?})",
            redact_url(u)
        ));
    }
    let prefix = env
        .get("FINGERTIP_REDIS_PREFIX")
        .unwrap_or_else(|| "fingertip".into());
    RedisSettings { url, prefix }
}

fn read_auth(env: &mut Env, production: bool) -> AuthSettings {
    let (jwt_secret, jwt_secret_generated) = match env.get("FINGERTIP_JWT_SECRET") {
        Some(s) if s.len() < 16 => {
            env.error("FINGERTIP_JWT_SECRET must be at least 16 characters");
            (SecretString::from(s), false)
        }
        Some(s) => (SecretString::from(s), false),
        None => {
            if production {
                env.error("FINGERTIP_JWT_SECRET must be set when FINGERTIP_ENV=production");
            }
            (
                SecretString::from(crate::auth::secrets::random_token(32)),
                true,
            )
        }
    };
    let admin = match (
        env.get("FINGERTIP_ADMIN_USERNAME"),
        env.secret("FINGERTIP_ADMIN_PASSWORD"),
    ) {
        (Some(u), Some(p)) => {
            if p.expose_secret().chars().count() < 8 {
                env.error("FINGERTIP_ADMIN_PASSWORD must be at least 8 characters");
            }
            Some((u, p))
        }
        (Some(_), None) => {
            env.error("FINGERTIP_ADMIN_PASSWORD must be set when FINGERTIP_ADMIN_USERNAME is");
            None
        }
        (None, Some(_)) => {
            env.error("FINGERTIP_ADMIN_USERNAME must be set when FINGERTIP_ADMIN_PASSWORD is");
            None
        }
        (None, None) => None,
    };
    AuthSettings {
        jwt_secret,
        jwt_secret_generated,
        admin,
    }
}

fn read_wechat(env: &mut Env) -> Option<WechatSettings> {
    let api_base = env.base_url("FINGERTIP_WECHAT_API_BASE", DEFAULT_WECHAT_API_BASE);
    match (
        env.get("FINGERTIP_WECHAT_APPID"),
        env.secret("FINGERTIP_WECHAT_SECRET"),
    ) {
        (Some(appid), Some(secret)) => Some(WechatSettings {
            appid,
            secret,
            api_base,
        }),
        (None, None) => None,
        _ => {
            env.error("FINGERTIP_WECHAT_APPID and FINGERTIP_WECHAT_SECRET must be set together");
            None
        }
    }
}

fn read_wecom(env: &mut Env) -> Option<WecomSettings> {
    let api_base = env.base_url("FINGERTIP_WECOM_API_BASE", DEFAULT_WECOM_API_BASE);
    let oauth_base = env.base_url("FINGERTIP_WECOM_OAUTH_BASE", DEFAULT_WECOM_OAUTH_BASE);
    match (
        env.get("FINGERTIP_WECOM_CORPID"),
        env.secret("FINGERTIP_WECOM_SECRET"),
        env.get("FINGERTIP_WECOM_AGENTID"),
    ) {
        (None, None, None) => None,
        (Some(corp_id), Some(secret), Some(agent)) => {
            if let Ok(agent_id) = agent.parse::<i64>() {
                Some(WecomSettings {
                    corp_id,
                    secret,
                    agent_id,
                    api_base,
                    oauth_base,
                })
            } else {
                env.error(format!(
                    "FINGERTIP_WECOM_AGENTID={agent:?} must be a number"
                ));
                None
            }
        }
        _ => {
            env.error(
                "FINGERTIP_WECOM_CORPID, FINGERTIP_WECOM_SECRET and FINGERTIP_WECOM_AGENTID must be set together",
            );
            None
        }
    }
}

fn read_push(env: &mut Env, wecom: bool, public_url: Option<&str>) -> PushSettings {
    let d = SendConfig::default();
    let sender_name = env
        .get("FINGERTIP_SENDER_NAME")
        .unwrap_or_else(|| DEFAULT_SENDER_NAME.to_string());
    if sender_name.chars().count() > 20 {
        env.error("FINGERTIP_SENDER_NAME must be at most 20 characters");
    }
    let link = env
        .get("FINGERTIP_PUSH_LINK")
        .or_else(|| public_url.map(|u| format!("{u}{READING_PAGE_PATH}")));
    match &link {
        Some(l) if !(l.starts_with("https://") || l.starts_with("http://")) => env.error(format!(
            "FINGERTIP_PUSH_LINK={l:?} must be an http(s) URL, with {{broadcast_id}} where the broadcast goes"
        )),
        None if wecom => env.error(
            "FINGERTIP_PUSH_LINK or FINGERTIP_PUBLIC_URL must be set when WeCom is configured: the page a WeCom card opens is FINGERTIP_PUBLIC_URL/m/broadcasts/{broadcast_id} unless FINGERTIP_PUSH_LINK names another",
        ),
        _ => {}
    }
    let send = SendConfig {
        concurrency: in_range(
            env.number(
                "FINGERTIP_PUSH_CONCURRENCY",
                in_range(d.concurrency, 0),
                1..=512,
            ),
            d.concurrency,
        ),
        wechat_rate: crate::ports::Limit {
            per_sec: in_range(
                env.number(
                    "FINGERTIP_WECHAT_RATE",
                    u64::from(d.wechat_rate.per_sec),
                    1..=100_000,
                ),
                d.wechat_rate.per_sec,
            ),
        },
        wecom_rate: crate::ports::Limit {
            per_sec: in_range(
                env.number(
                    "FINGERTIP_WECOM_RATE",
                    u64::from(d.wecom_rate.per_sec),
                    1..=1000,
                ),
                d.wecom_rate.per_sec,
            ),
        },
        max_attempts: in_range(
            env.number(
                "FINGERTIP_PUSH_MAX_ATTEMPTS",
                in_range(d.max_attempts, 0),
                1..=50,
            ),
            d.max_attempts,
        ),
        ..d
    };
    let quiet = env
        .get("FINGERTIP_QUIET_HOURS")
        .unwrap_or_else(|| DEFAULT_QUIET_HOURS.to_string());
    let quiet_hours = crate::push::quiet::parse_span(&quiet).unwrap_or_else(|| {
        env.error(format!(
            "FINGERTIP_QUIET_HOURS={quiet:?} must be HH:MM-HH:MM (two different times, e.g. 22:00-07:30) or off"
        ));
        None
    });
    let digest = env
        .get("FINGERTIP_DIGEST_AT")
        .unwrap_or_else(|| DEFAULT_DIGEST_AT.to_string());
    let digest_at = crate::push::quiet::parse_minute(&digest).unwrap_or_else(|| {
        env.error(format!(
            "FINGERTIP_DIGEST_AT={digest:?} must be a time of day, HH:MM"
        ));
        20 * 60
    });
    PushSettings {
        send,
        sender_name,
        link,
        quiet_hours,
        digest_at,
    }
}

/// `n` as the type a setting is kept in. `Env::number` has already held it to a range that
/// fits, so `otherwise` is never used.
fn in_range<A, B: TryFrom<A>>(n: A, otherwise: B) -> B {
    B::try_from(n).unwrap_or(otherwise)
}

fn read_fanout(env: &mut Env) -> FanoutConfig {
    use crate::broadcasts::fanout::{BATCH_RANGE, LEASE_SECS_RANGE, STREAMS_RANGE};
    let d = FanoutConfig::default();
    FanoutConfig {
        lease: chrono::Duration::seconds(in_range(
            env.number(
                "FINGERTIP_FANOUT_LEASE_SECS",
                in_range(d.lease.num_seconds(), 0),
                LEASE_SECS_RANGE,
            ),
            d.lease.num_seconds(),
        )),
        batch: env.number("FINGERTIP_FANOUT_BATCH", d.batch, BATCH_RANGE),
        streams: env.number("FINGERTIP_FANOUT_STREAMS", d.streams, STREAMS_RANGE),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]).expect("defaults are valid");
        assert_eq!(s.database.url, DEFAULT_DATABASE_URL);
        assert!(s.auth.jwt_secret_generated);
        assert!(s.wechat.is_none());
        assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
        assert_eq!(s.push.send.max_attempts, 8);
        assert_eq!(s.database.acquire_timeout.as_millis(), 1_000);
        assert_eq!(
            s.database.statement_timeout.map(|d| d.as_millis()),
            Some(30_000)
        );
    }

    #[test]
    fn database_timeouts_are_read_and_bounded() {
        let s = settings(&[
            ("FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS", "250"),
            ("FINGERTIP_DATABASE_STATEMENT_TIMEOUT_MS", "0"),
        ])
        .expect("valid");
        assert_eq!(s.database.acquire_timeout.as_millis(), 250);
        assert_eq!(s.database.statement_timeout, None, "0 turns it off");
        let errs = settings(&[("FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS", "5")]).unwrap_err();
        assert!(
            errs[0].contains("FINGERTIP_DATABASE_ACQUIRE_TIMEOUT_MS"),
            "{errs:?}"
        );
    }

    #[test]
    fn every_bad_value_gets_its_own_line() {
        let errs = settings(&[
            ("FINGERTIP_DATABASE_URL", "mysql://u:pw@h/db"),
            ("FINGERTIP_TIMEZONE", "Mars/Olympus"),
            ("FINGERTIP_WECHAT_APPID", "wx1"),
        ])
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(
            errs.iter()
                .any(|e| e.contains("FINGERTIP_DATABASE_URL") && !e.contains("pw"))
        );
        assert!(errs.iter().any(|e| e.contains("FINGERTIP_TIMEZONE")));
        assert!(errs.iter().any(|e| e.contains("FINGERTIP_WECHAT_SECRET")));
    }

    #[test]
    fn production_refuses_a_missing_jwt_secret() {
        let errs = settings(&[("FINGERTIP_ENV", "production")]).unwrap_err();
        assert!(
            errs.iter().any(|e| e.contains("FINGERTIP_JWT_SECRET")),
            "{errs:?}"
        );
    }

    #[test]
    fn quiet_hours_and_the_digest_time_default_and_are_checked() {
        use crate::push::quiet::Span;
        let s = settings(&[]).unwrap();
        assert_eq!(
            (s.push.quiet_hours, s.push.digest_at),
            (
                Some(Span {
                    from: 22 * 60,
                    until: 7 * 60 + 30
                }),
                20 * 60
            )
        );
        let s = settings(&[
            ("FINGERTIP_QUIET_HOURS", "off"),
            ("FINGERTIP_DIGEST_AT", "18:30"),
        ])
        .unwrap();
        assert_eq!((s.push.quiet_hours, s.push.digest_at), (None, 18 * 60 + 30));
        let errs = settings(&[
            ("FINGERTIP_QUIET_HOURS", "22-7"),
            ("FINGERTIP_DIGEST_AT", "evening"),
        ])
        .unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("FINGERTIP_QUIET_HOURS"), "{errs:?}");
    }

    #[test]
    fn the_feedback_reminder_waits_three_days_unless_set_within_sixty() {
        assert_eq!(settings(&[]).unwrap().feedback_remind_days, 3);
        let s = settings(&[("FINGERTIP_FEEDBACK_REMIND_DAYS", "7")]).unwrap();
        assert_eq!(s.feedback_remind_days, 7);
        let errs = settings(&[("FINGERTIP_FEEDBACK_REMIND_DAYS", "0")]).unwrap_err();
        assert!(
            errs[0].starts_with("FINGERTIP_FEEDBACK_REMIND_DAYS"),
            "{errs:?}"
        );
    }

    #[test]
    fn fan_out_lease_and_batch_default_and_are_bounded() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.fanout.lease.num_seconds(), s.fanout.batch), (60, 2000));
        assert_eq!(s.fanout.streams, 2);
        let s = settings(&[
            ("FINGERTIP_FANOUT_LEASE_SECS", "5"),
            ("FINGERTIP_FANOUT_BATCH", "10000"),
            ("FINGERTIP_FANOUT_STREAMS", "1"),
        ])
        .unwrap();
        assert_eq!((s.fanout.lease.num_seconds(), s.fanout.batch), (5, 10_000));
        assert_eq!(s.fanout.streams, 1);
        for streams in ["0", "9"] {
            let errs = settings(&[("FINGERTIP_FANOUT_STREAMS", streams)]).unwrap_err();
            assert!(errs[0].contains("1 to 8"), "{errs:?}");
        }
        for (lease, batch) in [("4", "49"), ("3601", "10001"), ("1m", "-5"), ("2.5", "5e2")] {
            let errs = settings(&[
                ("FINGERTIP_FANOUT_LEASE_SECS", lease),
                ("FINGERTIP_FANOUT_BATCH", batch),
            ])
            .unwrap_err();
            assert_eq!(errs.len(), 2, "{errs:?}");
            assert!(
                errs[0].starts_with("FINGERTIP_FANOUT_LEASE_SECS=")
                    && errs[0].contains("5 to 3600"),
                "{errs:?}"
            );
            assert!(
                errs[1].starts_with("FINGERTIP_FANOUT_BATCH=") && errs[1].contains("50 to 10000"),
                "{errs:?}"
            );
        }
    }

    #[test]
    fn the_wecom_card_opens_the_reading_page_under_the_public_url() {
        let wecom = [
            ("FINGERTIP_WECOM_CORPID", "ww1"),
            ("FINGERTIP_WECOM_SECRET", "s"),
            ("FINGERTIP_WECOM_AGENTID", "1000002"),
        ];
        let errs = settings(&wecom).unwrap_err();
        assert!(errs[0].contains("FINGERTIP_PUBLIC_URL"), "{errs:?}");
        let mut vars = wecom.to_vec();
        vars.push(("FINGERTIP_PUBLIC_URL", "https://dj.example.org/fingertip/"));
        let s = settings(&vars).unwrap();
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://dj.example.org/fingertip")
        );
        assert_eq!(
            s.push.link.as_deref(),
            Some("https://dj.example.org/fingertip/m/broadcasts/{broadcast_id}")
        );
        assert_eq!(
            s.wecom.as_ref().map(|w| w.oauth_base.as_str()),
            Some(DEFAULT_WECOM_OAUTH_BASE)
        );
        vars.push((
            "FINGERTIP_PUSH_LINK",
            "https://other.example/{broadcast_id}",
        ));
        let s = settings(&vars).unwrap();
        assert_eq!(
            s.push.link.as_deref(),
            Some("https://other.example/{broadcast_id}"),
            "an explicit link wins"
        );
        let errs = settings(&[("FINGERTIP_PUBLIC_URL", "dj.example.org")]).unwrap_err();
        assert!(errs[0].contains("FINGERTIP_PUBLIC_URL"), "{errs:?}");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = settings(&[
            ("FINGERTIP_JWT_SECRET", "super-secret-value-123"),
            ("FINGERTIP_WECHAT_APPID", "wx1"),
            ("FINGERTIP_WECHAT_SECRET", "wechat-secret-456"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("super-secret-value-123") && !shown.contains("wechat-secret-456"));
    }
}
