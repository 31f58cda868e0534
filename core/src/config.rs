//! Settings: a typed tree read once from the environment (and `.env`, loaded by the binary),
//! validated at start-up with one line per bad value. Secrets are redacted in `Debug`.
//!
//! Written by hand rather than with figment/config: the contract is a flat list of
//! `FINGERTIP_*` variables, and a hand-written reader gives exactly one clear line per bad value.

use std::fmt;
use std::net::SocketAddr;
use std::ops::RangeInclusive;

use chrono_tz::Tz;
use fingertip_wechat::WechatConfig;

use crate::broadcasts::fanout::FanoutConfig;

/// A string that never appears in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct WecomSettings {
    pub corp_id: String,
    pub secret: Secret,
    pub agent_id: i64,
    pub api_base: String,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so that several deployments (or test runs) can share a Redis.
    pub redis_prefix: String,
    pub jwt_secret: Secret,
    /// True when no secret was configured and a random one was generated for this process.
    pub jwt_secret_generated: bool,
    pub production: bool,
    pub admin_username: Option<String>,
    pub admin_password: Option<Secret>,
    pub timezone: Tz,
    pub wechat: Option<WechatConfig>,
    pub wechat_api_base: String,
    pub wecom: Option<WecomSettings>,
    pub wecom_api_base: String,
    pub log_json: bool,
    /// Seconds a worker's claim on a broadcast holds without renewal; a killed worker's
    /// broadcast is taken over after at most this long.
    pub fanout_lease_secs: u64,
    /// Recipients written per fan-out batch (one transaction each, which also renews the lease).
    pub fanout_batch: u64,
    /// Who pushes say they are from (a subscribe keyword with the `sender` source).
    pub sender_name: String,
    /// The link a WeCom card opens, with `{broadcast_id}`; required with WeCom.
    pub push_link: Option<String>,
    /// Pushes in flight at once per worker.
    pub push_concurrency: u64,
    /// Subscribe messages per second per mini-program, across all workers.
    pub wechat_rate: u64,
    /// WeCom send calls per second per app, across all workers.
    pub wecom_rate: u64,
    pub push_max_attempts: u64,
    /// Take the client's address from `X-Forwarded-For`/`Forwarded` (behind a reverse proxy
    /// that overwrites them) instead of the TCP peer, for the abuse limits and the audit log.
    pub trust_forwarded_for: bool,
    /// Where `fingertip work` serves `/metrics` and `/healthz` (the API serves its own on
    /// `bind`); `None`: nowhere.
    pub metrics_bind: Option<SocketAddr>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://fingertip.db?mode=rwc";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
pub const DEFAULT_WECOM_API_BASE: &str = "https://qyapi.weixin.qq.com";
pub const DEFAULT_FANOUT_LEASE_SECS: u64 = 60;
pub const FANOUT_LEASE_SECS_RANGE: RangeInclusive<u64> = 5..=3600;
pub const DEFAULT_SENDER_NAME: &str = "党支部";
pub const DEFAULT_FANOUT_BATCH: u64 = 2000;
pub const FANOUT_BATCH_RANGE: RangeInclusive<u64> = 50..=10_000;

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Vec<String>> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get`, which returns a variable's value if it is set.
    /// Empty values count as unset. Returns every problem found, one line each.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut errors = Vec::new();

        let bind_raw = get("FINGERTIP_BIND").unwrap_or_else(|| DEFAULT_BIND.into());
        let bind = bind_raw.parse::<SocketAddr>().unwrap_or_else(|_| {
            errors.push(format!(
                "FINGERTIP_BIND={bind_raw:?} is not a socket address such as 127.0.0.1:8080"
            ));
            ([127, 0, 0, 1], 8080).into()
        });

        let database_url =
            get("FINGERTIP_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            errors.push(format!(
                "FINGERTIP_DATABASE_URL must start with sqlite: or postgres:// (got {:?})",
                redact_url(&database_url)
            ));
        }

        let redis_url = get("FINGERTIP_REDIS_URL");
        if let Some(u) = &redis_url
            && !(u.starts_with("redis://") || u.starts_with("rediss://"))
        {
            errors.push(format!(
                "FINGERTIP_REDIS_URL must start with redis:// or rediss:// (got {:?})",
                redact_url(u)
            ));
        }
        let redis_prefix = get("FINGERTIP_REDIS_PREFIX").unwrap_or_else(|| "fingertip".into());

        let production = match get("FINGERTIP_ENV").as_deref() {
            None | Some("development") | Some("dev") | Some("test") => false,
            Some("production") | Some("prod") => true,
            Some(other) => {
                errors.push(format!(
                    "FINGERTIP_ENV={other:?} must be production or development"
                ));
                false
            }
        };

        let (jwt_secret, jwt_secret_generated) = match get("FINGERTIP_JWT_SECRET") {
            Some(s) if s.len() < 16 => {
                errors.push("FINGERTIP_JWT_SECRET must be at least 16 characters".into());
                (Secret::new(s), false)
            }
            Some(s) => (Secret::new(s), false),
            None => {
                if production {
                    errors.push(
                        "FINGERTIP_JWT_SECRET must be set when FINGERTIP_ENV=production".into(),
                    );
                }
                (Secret::new(crate::auth::secrets::random_token(32)), true)
            }
        };

        let admin_username = get("FINGERTIP_ADMIN_USERNAME");
        let admin_password = get("FINGERTIP_ADMIN_PASSWORD").map(Secret::new);
        match (&admin_username, &admin_password) {
            (Some(_), None) => errors.push(
                "FINGERTIP_ADMIN_PASSWORD must be set when FINGERTIP_ADMIN_USERNAME is".into(),
            ),
            (None, Some(_)) => errors.push(
                "FINGERTIP_ADMIN_USERNAME must be set when FINGERTIP_ADMIN_PASSWORD is".into(),
            ),
            (Some(_), Some(p)) if p.expose().chars().count() < 8 => {
                errors.push("FINGERTIP_ADMIN_PASSWORD must be at least 8 characters".into())
            }
            _ => {}
        }

        let tz_raw = get("FINGERTIP_TIMEZONE").unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone = tz_raw.parse::<Tz>().unwrap_or_else(|_| {
            errors.push(format!(
                "FINGERTIP_TIMEZONE={tz_raw:?} is not an IANA time zone such as Asia/Shanghai"
            ));
            chrono_tz::Asia::Shanghai
        });

        let wechat_api_base = base_url(
            &mut errors,
            "FINGERTIP_WECHAT_API_BASE",
            get("FINGERTIP_WECHAT_API_BASE"),
            DEFAULT_WECHAT_API_BASE,
        );
        let wechat = match (
            get("FINGERTIP_WECHAT_APPID"),
            get("FINGERTIP_WECHAT_SECRET"),
        ) {
            (Some(appid), Some(secret)) => Some(WechatConfig {
                api_base: wechat_api_base.clone(),
                appid,
                secret,
            }),
            (None, None) => None,
            _ => {
                errors.push(
                    "FINGERTIP_WECHAT_APPID and FINGERTIP_WECHAT_SECRET must be set together"
                        .into(),
                );
                None
            }
        };

        let wecom_api_base = base_url(
            &mut errors,
            "FINGERTIP_WECOM_API_BASE",
            get("FINGERTIP_WECOM_API_BASE"),
            DEFAULT_WECOM_API_BASE,
        );
        let wecom = match (
            get("FINGERTIP_WECOM_CORPID"),
            get("FINGERTIP_WECOM_SECRET"),
            get("FINGERTIP_WECOM_AGENTID"),
        ) {
            (None, None, None) => None,
            (Some(corp_id), Some(secret), Some(agent)) => match agent.parse::<i64>() {
                Ok(agent_id) => Some(WecomSettings {
                    corp_id,
                    secret: Secret::new(secret),
                    agent_id,
                    api_base: wecom_api_base.clone(),
                }),
                Err(_) => {
                    errors.push(format!(
                        "FINGERTIP_WECOM_AGENTID={agent:?} must be a number"
                    ));
                    None
                }
            },
            _ => {
                errors.push(
                    "FINGERTIP_WECOM_CORPID, FINGERTIP_WECOM_SECRET and FINGERTIP_WECOM_AGENTID must be set together"
                        .into(),
                );
                None
            }
        };

        let metrics_bind = get("FINGERTIP_METRICS_BIND").and_then(|raw| {
            raw.parse::<SocketAddr>()
                .map_err(|_| {
                    errors.push(format!(
                        "FINGERTIP_METRICS_BIND={raw:?} is not a socket address such as 0.0.0.0:9091"
                    ))
                })
                .ok()
        });

        let trust_forwarded_for = match get("FINGERTIP_TRUST_FORWARDED_FOR").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                errors.push(format!(
                    "FINGERTIP_TRUST_FORWARDED_FOR={other:?} must be true or false"
                ));
                false
            }
        };

        let log_json = match get("FINGERTIP_LOG_FORMAT").as_deref() {
            None => production,
            Some("json") => true,
            Some("text") => false,
            Some(other) => {
                errors.push(format!(
                    "FINGERTIP_LOG_FORMAT={other:?} must be json or text"
                ));
                false
            }
        };

        let fanout_lease_secs = whole_number(
            &mut errors,
            "FINGERTIP_FANOUT_LEASE_SECS",
            get("FINGERTIP_FANOUT_LEASE_SECS"),
            DEFAULT_FANOUT_LEASE_SECS,
            FANOUT_LEASE_SECS_RANGE,
        );
        let fanout_batch = whole_number(
            &mut errors,
            "FINGERTIP_FANOUT_BATCH",
            get("FINGERTIP_FANOUT_BATCH"),
            DEFAULT_FANOUT_BATCH,
            FANOUT_BATCH_RANGE,
        );
        let sender_name = get("FINGERTIP_SENDER_NAME")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SENDER_NAME.to_string());
        if sender_name.chars().count() > 20 {
            errors.push("FINGERTIP_SENDER_NAME must be at most 20 characters".into());
        }
        let push_link = get("FINGERTIP_PUSH_LINK").filter(|s| !s.trim().is_empty());
        match &push_link {
            Some(l) if !(l.starts_with("https://") || l.starts_with("http://")) => errors.push(
                format!("FINGERTIP_PUSH_LINK={l:?} must be an http(s) URL, with {{broadcast_id}} where the broadcast goes"),
            ),
            None if wecom.is_some() => errors.push(
                "FINGERTIP_PUSH_LINK must be set when WeCom is configured: the page a WeCom card opens, e.g. https://example.org/fingertip/broadcasts/{broadcast_id}".into(),
            ),
            _ => {}
        }
        let push_concurrency = whole_number(
            &mut errors,
            "FINGERTIP_PUSH_CONCURRENCY",
            get("FINGERTIP_PUSH_CONCURRENCY"),
            64,
            1..=512,
        );
        let wechat_rate = whole_number(
            &mut errors,
            "FINGERTIP_WECHAT_RATE",
            get("FINGERTIP_WECHAT_RATE"),
            1000,
            1..=100_000,
        );
        let wecom_rate = whole_number(
            &mut errors,
            "FINGERTIP_WECOM_RATE",
            get("FINGERTIP_WECOM_RATE"),
            20,
            1..=1000,
        );
        let push_max_attempts = whole_number(
            &mut errors,
            "FINGERTIP_PUSH_MAX_ATTEMPTS",
            get("FINGERTIP_PUSH_MAX_ATTEMPTS"),
            8,
            1..=50,
        );

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Settings {
            bind,
            database_url,
            redis_url,
            redis_prefix,
            jwt_secret,
            jwt_secret_generated,
            production,
            admin_username,
            admin_password,
            timezone,
            wechat,
            wechat_api_base,
            wecom,
            wecom_api_base,
            log_json,
            trust_forwarded_for,
            metrics_bind,
            fanout_lease_secs,
            fanout_batch,
            sender_name,
            push_link,
            push_concurrency,
            wechat_rate,
            wecom_rate,
            push_max_attempts,
        })
    }

    /// The fan-out worker's lease and batch size.
    pub fn push(&self) -> crate::push::send::SendConfig {
        use crate::ports::Limit;
        crate::push::send::SendConfig {
            concurrency: self.push_concurrency as usize,
            wechat_rate: Limit {
                per_sec: self.wechat_rate as u32,
            },
            wecom_rate: Limit {
                per_sec: self.wecom_rate as u32,
            },
            max_attempts: self.push_max_attempts as i32,
            ..Default::default()
        }
    }

    pub fn fanout(&self) -> FanoutConfig {
        FanoutConfig {
            batch: self.fanout_batch,
            lease: chrono::Duration::seconds(self.fanout_lease_secs as i64),
        }
    }
}

/// Parses a whole number within `range`; a bad value is one line in `errors`.
fn whole_number(
    errors: &mut Vec<String>,
    name: &str,
    value: Option<String>,
    default: u64,
    range: RangeInclusive<u64>,
) -> u64 {
    let Some(raw) = value else { return default };
    match raw.parse::<u64>() {
        Ok(n) if range.contains(&n) => n,
        _ => {
            errors.push(format!(
                "{name}={raw:?} must be a whole number from {} to {}",
                range.start(),
                range.end()
            ));
            default
        }
    }
}

fn base_url(errors: &mut Vec<String>, name: &str, value: Option<String>, default: &str) -> String {
    let v = value.unwrap_or_else(|| default.to_string());
    if !(v.starts_with("http://") || v.starts_with("https://")) {
        errors.push(format!("{name}={v:?} must be an http:// or https:// URL"));
    }
    v.trim_end_matches('/').to_string()
}

/// Hides the password part of a URL for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

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
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert!(s.jwt_secret_generated);
        assert!(s.wechat.is_none());
        assert_eq!(s.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn every_bad_value_gets_its_own_line() {
        let errs = settings(&[
            ("FINGERTIP_BIND", "localhost"),
            ("FINGERTIP_DATABASE_URL", "mysql://u:pw@h/db"),
            ("FINGERTIP_TIMEZONE", "Mars/Olympus"),
        ])
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].contains("FINGERTIP_BIND"));
        assert!(errs[1].contains("FINGERTIP_DATABASE_URL") && !errs[1].contains("pw"));
        assert!(errs[2].contains("FINGERTIP_TIMEZONE"));
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
    fn fan_out_lease_and_batch_default_and_are_bounded() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.fanout_lease_secs, s.fanout_batch), (60, 2000));
        assert_eq!(s.fanout().lease, chrono::Duration::seconds(60));
        let s = settings(&[
            ("FINGERTIP_FANOUT_LEASE_SECS", "5"),
            ("FINGERTIP_FANOUT_BATCH", "10000"),
        ])
        .unwrap();
        assert_eq!(
            (s.fanout().lease.num_seconds(), s.fanout().batch),
            (5, 10_000)
        );
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
    fn secrets_are_redacted_in_debug() {
        let s = settings(&[("FINGERTIP_JWT_SECRET", "super-secret-value-123")]).unwrap();
        assert!(!format!("{s:?}").contains("super-secret-value-123"));
    }
}
