//! The mock's access tokens (WECHAT.md §2): classic `/cgi-bin/token`, `/cgi-bin/stable_token`
//! and WeCom `/cgi-bin/gettoken`, each token owned by the mini-program or by one WeCom agent.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A classic token stays valid this long after the next fetch replaced it; the stable and
/// WeCom tokens are renewed this long before they expire.
pub const TOKEN_GRACE: Duration = Duration::from_secs(300);
/// Default token lifetime (`expires_in`).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(7200);
/// Forced stable-token refreshes allowed per 24 hours.
pub const FORCE_REFRESH_PER_DAY: usize = 20;
/// Forced refreshes closer together than this do not refresh.
pub const FORCE_REFRESH_SPACING: Duration = Duration::from_secs(30);
const DAY: Duration = Duration::from_secs(86_400);

/// Who may use a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    MiniProgram,
    Wecom { agentid: i64 },
}

/// Why an API call's token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    Expired,
}

struct Issued {
    owner: Owner,
    expires_at: Instant,
}

#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
    next: u64,
    classic: Option<String>,
    stable: Option<String>,
    wecom: HashMap<i64, String>,
    forced: Vec<Instant>,
}

impl Tokens {
    fn issue(&mut self, owner: Owner, now: Instant, ttl: Duration) -> String {
        // Forget tokens that expired a day ago (they would answer 40001 instead of 42001).
        self.issued
            .retain(|_, t| now.saturating_duration_since(t.expires_at) < DAY);
        self.next += 1;
        let token = format!("mock-at-{}", self.next);
        self.issued.insert(
            token.clone(),
            Issued {
                owner,
                expires_at: now.checked_add(ttl).unwrap_or(now),
            },
        );
        token
    }

    fn expires_in(&self, token: &str, now: Instant) -> u64 {
        self.issued
            .get(token)
            .map_or(0, |t| t.expires_at.saturating_duration_since(now).as_secs())
    }

    /// The current token of a renewing endpoint while more than [`TOKEN_GRACE`] of it
    /// remains, else a new one (the old one keeps working until its own expiry).
    fn renewing(
        &mut self,
        current: Option<String>,
        owner: Owner,
        now: Instant,
        ttl: Duration,
    ) -> String {
        if let Some(token) = current
            && let Some(t) = self.issued.get(&token)
            && t.expires_at.saturating_duration_since(now) > TOKEN_GRACE
        {
            return token;
        }
        self.issue(owner, now, ttl)
    }

    /// `/cgi-bin/token`: a new token every call; the previous one stays valid 300 s more.
    pub fn classic(&mut self, now: Instant, ttl: Duration) -> (String, u64) {
        if let Some(prev) = self.classic.take()
            && let Some(t) = self.issued.get_mut(&prev)
        {
            let grace_end = now.checked_add(TOKEN_GRACE).unwrap_or(now);
            t.expires_at = t.expires_at.min(grace_end);
        }
        let token = self.issue(Owner::MiniProgram, now, ttl);
        self.classic = Some(token.clone());
        let expires_in = self.expires_in(&token, now);
        (token, expires_in)
    }

    /// `/cgi-bin/stable_token`. Normal mode: the same token until 300 s before it expires.
    /// Forced: a new token and the old one invalid, at most 20 per day (then 45009), and not
    /// within 30 s of the previous forced refresh (then the current token is returned).
    pub fn stable(
        &mut self,
        now: Instant,
        ttl: Duration,
        force: bool,
    ) -> Result<(String, u64), i64> {
        let mut current = self.stable.take();
        if force {
            self.forced
                .retain(|&t| now.saturating_duration_since(t) < DAY);
            let spaced = self
                .forced
                .last()
                .is_none_or(|&t| now.saturating_duration_since(t) >= FORCE_REFRESH_SPACING);
            if spaced {
                if self.forced.len() >= FORCE_REFRESH_PER_DAY {
                    self.stable = current;
                    return Err(45009);
                }
                self.forced.push(now);
                if let Some(old) = current.take() {
                    self.issued.remove(&old);
                }
            }
        }
        let token = self.renewing(current, Owner::MiniProgram, now, ttl);
        self.stable = Some(token.clone());
        let expires_in = self.expires_in(&token, now);
        Ok((token, expires_in))
    }

    /// `/cgi-bin/gettoken` for one agent: renews like the stable token. (Whether WeCom still
    /// returns the same token within its validity is UNCONFIRMED, WECHAT.md §2.3.)
    pub fn wecom(&mut self, agentid: i64, now: Instant, ttl: Duration) -> (String, u64) {
        let current = self.wecom.remove(&agentid);
        let token = self.renewing(current, Owner::Wecom { agentid }, now, ttl);
        self.wecom.insert(agentid, token.clone());
        let expires_in = self.expires_in(&token, now);
        (token, expires_in)
    }

    /// Whose token `token` is, or why it is refused.
    pub fn check(&self, token: Option<&str>, now: Instant) -> Result<Owner, TokenProblem> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(TokenProblem::Missing)?;
        let t = self.issued.get(token).ok_or(TokenProblem::Unknown)?;
        if now >= t.expires_at {
            return Err(TokenProblem::Expired);
        }
        Ok(t.owner)
    }

    /// Every token expires now (API calls answer 42001).
    pub fn expire_all(&mut self, now: Instant) {
        for t in self.issued.values_mut() {
            t.expires_at = t.expires_at.min(now);
        }
    }

    /// Every token is forgotten (API calls answer 40001, WeCom 40014).
    pub fn invalidate_all(&mut self) {
        self.issued.clear();
        self.classic = None;
        self.stable = None;
        self.wecom.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = DEFAULT_TOKEN_TTL;

    #[test]
    fn classic_rotates_with_grace() {
        let mut t = Tokens::default();
        let t0 = Instant::now();
        let (a, exp) = t.classic(t0, TTL);
        assert_eq!(exp, 7200);
        let (b, _) = t.classic(t0, TTL);
        assert_ne!(a, b);
        assert_eq!(
            t.check(Some(&a), t0 + Duration::from_secs(299)),
            Ok(Owner::MiniProgram)
        );
        assert_eq!(
            t.check(Some(&a), t0 + Duration::from_secs(300)),
            Err(TokenProblem::Expired)
        );
        assert!(t.check(Some(&b), t0 + Duration::from_secs(7199)).is_ok());
    }

    #[test]
    fn stable_is_idempotent_until_the_last_five_minutes() {
        let mut t = Tokens::default();
        let t0 = Instant::now();
        let (a, _) = t.stable(t0, TTL, false).unwrap();
        let (a2, exp) = t
            .stable(t0 + Duration::from_secs(6899), TTL, false)
            .unwrap();
        assert_eq!(a, a2);
        assert_eq!(exp, 301);
        let (b, exp) = t
            .stable(t0 + Duration::from_secs(6900), TTL, false)
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(exp, 7200);
        // The old one still works until its own expiry.
        assert!(t.check(Some(&a), t0 + Duration::from_secs(7199)).is_ok());
    }

    #[test]
    fn forced_refresh_limits() {
        let mut t = Tokens::default();
        let t0 = Instant::now();
        let (a, _) = t.stable(t0, TTL, false).unwrap();
        let (b, _) = t.stable(t0, TTL, true).unwrap();
        assert_ne!(a, b);
        assert_eq!(t.check(Some(&a), t0), Err(TokenProblem::Unknown));
        // Within 30 s: no refresh.
        let (b2, _) = t.stable(t0 + Duration::from_secs(10), TTL, true).unwrap();
        assert_eq!(b, b2);
        let mut now = t0;
        for _ in 1..FORCE_REFRESH_PER_DAY {
            now += FORCE_REFRESH_SPACING;
            t.stable(now, TTL, true).unwrap();
        }
        now += FORCE_REFRESH_SPACING;
        assert_eq!(t.stable(now, TTL, true), Err(45009));
        // Normal mode still works, and the quota comes back a day later.
        assert!(t.stable(now, TTL, false).is_ok());
        assert!(
            t.stable(t0 + DAY + Duration::from_secs(1), TTL, true)
                .is_ok()
        );
    }

    #[test]
    fn expire_and_invalidate() {
        let mut t = Tokens::default();
        let t0 = Instant::now();
        let (a, _) = t.wecom(7, t0, TTL);
        assert_eq!(t.check(Some(&a), t0), Ok(Owner::Wecom { agentid: 7 }));
        assert_eq!(t.check(None, t0), Err(TokenProblem::Missing));
        assert_eq!(t.check(Some(""), t0), Err(TokenProblem::Missing));
        t.expire_all(t0);
        assert_eq!(t.check(Some(&a), t0), Err(TokenProblem::Expired));
        let (b, _) = t.wecom(7, t0, TTL);
        assert_ne!(a, b);
        t.invalidate_all();
        assert_eq!(t.check(Some(&b), t0), Err(TokenProblem::Unknown));
    }
}
