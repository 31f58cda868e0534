//! The process's own settings (where to listen, how to log), read from the same `FINGERTIP_*`
//! variables as the core's, with every problem of both reported at once.

use std::net::SocketAddr;

use fingertip_core::settings::{Env, Settings};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// Where the API listens.
    pub bind: SocketAddr,
    /// Where `fingertip work` serves `/metrics` and `/healthz` (the API serves its own on
    /// `bind`); `None`: nowhere.
    pub metrics_bind: Option<SocketAddr>,
    pub log_json: bool,
    /// Take the client's address from `X-Forwarded-For` (behind a proxy that overwrites it).
    pub trust_forwarded_for: bool,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_bind: None,
            log_json: false,
            trust_forwarded_for: false,
        }
    }
}

impl ProcessSettings {
    fn read(env: &mut Env, production: bool) -> Self {
        let bind = env
            .socket("FINGERTIP_BIND")
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let log_json = match env.get("FINGERTIP_LOG_FORMAT").as_deref() {
            None => production,
            Some("json") => true,
            Some("text") => false,
            Some(other) => {
                env.error(format!(
                    "FINGERTIP_LOG_FORMAT={other:?} must be json or text"
                ));
                false
            }
        };
        Self {
            bind,
            metrics_bind: env.socket("FINGERTIP_METRICS_BIND"),
            log_json,
            trust_forwarded_for: env.flag("FINGERTIP_TRUST_FORWARDED_FOR", false),
        }
    }
}

/// Reads the core's settings and the process's through `get`: both, or every problem found.
pub fn read(
    get: impl Fn(&str) -> Option<String>,
) -> Result<(Settings, ProcessSettings), Vec<String>> {
    let mut env = Env::new(get);
    let core = Settings::read(&mut env);
    let process = ProcessSettings::read(&mut env, core.production);
    env.finish((core, process))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn a_bad_address_is_one_line_among_the_cores() {
        let vars: HashMap<&str, &str> = [
            ("FINGERTIP_BIND", "localhost"),
            ("FINGERTIP_TIMEZONE", "Mars/Olympus"),
            ("FINGERTIP_LOG_FORMAT", "xml"),
        ]
        .into();
        let errs = read(|k| vars.get(k).map(std::string::ToString::to_string)).unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs.iter().any(|e| e.starts_with("FINGERTIP_BIND=")));
        let (_, p) = read(|_| None).unwrap();
        assert_eq!(p.bind.to_string(), DEFAULT_BIND);
        assert!(!p.log_json && !p.trust_forwarded_for && p.metrics_bind.is_none());
    }
}
