//! Short-lived HS256 access tokens and bind tokens. Expiry is checked against the injected
//! clock, not the system time, so tests can move time.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const BIND_TTL_SECS: i64 = 10 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;
/// A console session lasts a working day; then the secretary logs in again.
pub const CONSOLE_TTL_SECS: i64 = 8 * 3600;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub role: String,
    pub typ: String,
    pub iat: i64,
    pub exp: i64,
}

/// The web console's session, kept in an HttpOnly cookie. `csrf` is what the console's forms
/// must send back: a page of another site can make the browser send the cookie, but cannot
/// read this value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsoleClaims {
    pub sub: String,
    pub sid: String,
    pub csrf: String,
    pub typ: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BindClaims {
    sub: String,
    typ: String,
    iat: i64,
    exp: i64,
}

pub struct TokenKeys {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &str) -> CoreResult<Self> {
        let bad = |e: jsonwebtoken::errors::Error| CoreError::Internal(format!("JWT key: {e}"));
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        Ok(Self {
            enc: EncodingKey::from_secret(secret.as_bytes()).map_err(bad)?,
            dec: DecodingKey::from_secret(secret.as_bytes()).map_err(bad)?,
            validation,
        })
    }

    fn sign<T: Serialize>(&self, claims: &T) -> CoreResult<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.enc)
            .map_err(|e| CoreError::Internal(format!("signing a token failed: {e}")))
    }

    pub fn access_token(
        &self,
        member_id: i64,
        role: &str,
        session_id: &str,
        now: DateTime<Utc>,
    ) -> CoreResult<String> {
        self.sign(&AccessClaims {
            sub: member_id.to_string(),
            sid: session_id.to_string(),
            role: role.to_string(),
            typ: "access".into(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TTL_SECS,
        })
    }

    pub fn verify_access(&self, token: &str, now: DateTime<Utc>) -> CoreResult<AccessClaims> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.dec, &self.validation)
            .map_err(|_| CoreError::Unauthorized("the access token is not valid".into()))?
            .claims;
        if claims.typ != "access" {
            return Err(CoreError::Unauthorized("not an access token".into()));
        }
        if claims.exp <= now.timestamp() {
            return Err(CoreError::Unauthorized(
                "the access token has expired".into(),
            ));
        }
        Ok(claims)
    }

    /// A console session's token (a cookie, never a bearer token: its `typ` is `console`).
    pub fn console_token(
        &self,
        member_id: i64,
        session_id: &str,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> CoreResult<String> {
        self.sign(&ConsoleClaims {
            sub: member_id.to_string(),
            sid: session_id.to_string(),
            csrf: csrf.to_string(),
            typ: "console".into(),
            iat: now.timestamp(),
            exp: now.timestamp() + CONSOLE_TTL_SECS,
        })
    }

    pub fn verify_console(&self, token: &str, now: DateTime<Utc>) -> CoreResult<ConsoleClaims> {
        let bad = || CoreError::Unauthorized("the console session is not valid".into());
        let claims = jsonwebtoken::decode::<ConsoleClaims>(token, &self.dec, &self.validation)
            .map_err(|_| bad())?
            .claims;
        if claims.typ != "console" {
            return Err(bad());
        }
        if claims.exp <= now.timestamp() {
            return Err(CoreError::Unauthorized(
                "the console session has expired; log in again".into(),
            ));
        }
        Ok(claims)
    }

    /// A token that proves, for a few minutes, that the caller owns this WeChat openid.
    pub fn bind_token(&self, openid: &str, now: DateTime<Utc>) -> CoreResult<String> {
        self.sign(&BindClaims {
            sub: openid.to_string(),
            typ: "bind".into(),
            iat: now.timestamp(),
            exp: now.timestamp() + BIND_TTL_SECS,
        })
    }

    /// Returns the openid a bind token vouches for.
    pub fn verify_bind(&self, token: &str, now: DateTime<Utc>) -> CoreResult<String> {
        let bad = || CoreError::invalid("bind_token", "is not valid or has expired; log in again");
        let claims = jsonwebtoken::decode::<BindClaims>(token, &self.dec, &self.validation)
            .map_err(|_| bad())?
            .claims;
        if claims.typ != "bind" || claims.exp <= now.timestamp() {
            return Err(bad());
        }
        Ok(claims.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn access_tokens_expire_on_the_injected_clock() {
        let keys = TokenKeys::new("0123456789abcdef0123").unwrap();
        let now = Utc::now();
        let t = keys.access_token(7, "member", "s1", now).unwrap();
        assert_eq!(keys.verify_access(&t, now).unwrap().sub, "7");
        assert!(
            keys.verify_access(&t, now + Duration::seconds(ACCESS_TTL_SECS))
                .is_err()
        );
    }

    #[test]
    fn a_bind_token_is_not_an_access_token_and_vice_versa() {
        let keys = TokenKeys::new("0123456789abcdef0123").unwrap();
        let now = Utc::now();
        let bind = keys.bind_token("o-openid", now).unwrap();
        assert!(keys.verify_access(&bind, now).is_err());
        let access = keys.access_token(1, "admin", "s", now).unwrap();
        assert!(keys.verify_bind(&access, now).is_err());
        assert_eq!(keys.verify_bind(&bind, now).unwrap(), "o-openid");
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let a = TokenKeys::new("0123456789abcdef0123").unwrap();
        let b = TokenKeys::new("another-secret-0123456").unwrap();
        let now = Utc::now();
        assert!(
            b.verify_access(&a.access_token(1, "admin", "s", now).unwrap(), now)
                .is_err()
        );
    }
}
