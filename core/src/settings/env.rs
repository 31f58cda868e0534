//! Reading `FINGERTIP_*` variables: every bad value is one line, all of them reported at once.
//!
//! Written by hand rather than with figment/config: the contract is a flat list of
//! `FINGERTIP_*` variables, and a small reader gives exactly one clear line per bad value.

use std::net::SocketAddr;
use std::ops::RangeInclusive;

use secrecy::SecretString;

/// Where values come from: the process environment, or a map in tests.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// A lookup of variables and the problems found.
pub struct Env<'a> {
    lookup: Lookup<'a>,
    pub errors: Vec<String>,
}

impl<'a> Env<'a> {
    pub fn new(lookup: impl Fn(&str) -> Option<String> + 'a) -> Self {
        Self {
            lookup: Box::new(lookup),
            errors: Vec::new(),
        }
    }

    /// A variable's value, trimmed; empty counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn error(&mut self, line: impl Into<String>) {
        self.errors.push(line.into());
    }

    pub fn secret(&self, name: &str) -> Option<SecretString> {
        self.get(name).map(SecretString::from)
    }

    /// A whole number within `range`, `default` when unset.
    pub fn number(&mut self, name: &str, default: u64, range: RangeInclusive<u64>) -> u64 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => n,
            _ => {
                self.error(format!(
                    "{name}={raw:?} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ));
                default
            }
        }
    }

    /// `true` or `false`, `default` when unset.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.get(name).as_deref() {
            None => default,
            Some("true") => true,
            Some("false") => false,
            Some(other) => {
                self.error(format!("{name}={other:?} must be true or false"));
                default
            }
        }
    }

    /// A socket address such as 127.0.0.1:8080.
    pub fn socket(&mut self, name: &str) -> Option<SocketAddr> {
        let raw = self.get(name)?;
        raw.parse()
            .map_err(|_| {
                self.error(format!(
                    "{name}={raw:?} is not a socket address such as 127.0.0.1:8080"
                ));
            })
            .ok()
    }

    /// An http(s) base URL without a trailing slash, `default` when unset.
    pub fn base_url(&mut self, name: &str, default: &str) -> String {
        let v = self.get(name).unwrap_or_else(|| default.to_string());
        if !(v.starts_with("http://") || v.starts_with("https://")) {
            self.error(format!("{name}={v:?} must be an http:// or https:// URL"));
        }
        v.trim_end_matches('/').to_string()
    }

    /// Ends reading: the value, or every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<String>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// Hides the password part of a URL for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}
