//! Argon2 password hashing, off the async threads and bounded: each hash takes about 19 MiB and
//! tens of milliseconds, so at most [`MAX_CONCURRENT_HASHES`] run at once (the rest wait for a
//! slot in `Core::password_slots`), and a flood of logins costs queueing, not memory.
//!
//! An unknown username is checked against a dummy hash with the same parameters, so that it
//! takes as long as a known one and the answer time does not tell which usernames exist.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{CoreError, CoreResult};

/// Hashes computed at the same time, per process.
pub const MAX_CONCURRENT_HASHES: usize = 4;

async fn slot(slots: &std::sync::Arc<Semaphore>) -> CoreResult<tokio::sync::OwnedSemaphorePermit> {
    slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| CoreError::Internal("the password slots are closed".into()))
}

pub async fn hash(slots: &std::sync::Arc<Semaphore>, password: String) -> CoreResult<String> {
    let permit = slot(slots).await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        hash_now(&password)
    })
    .await
    .map_err(|e| CoreError::Internal(format!("password hashing task failed: {e}")))?
}

fn hash_now(password: &str) -> CoreResult<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}")))
}

/// A hash of nothing anyone knows, with the parameters of real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_now(&super::secrets::random_token(24))
            .unwrap_or_else(|_| "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$".into())
    })
}

/// True when `password` matches the stored PHC string. No stored hash (an unknown account)
/// is checked against a dummy one and never matches; a malformed stored hash never matches.
pub async fn verify(
    slots: &std::sync::Arc<Semaphore>,
    password: String,
    stored: Option<String>,
) -> CoreResult<bool> {
    let permit = slot(slots).await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let ok = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
    .map_err(|e| CoreError::Internal(format!("password check failed: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_no_account_never_does() {
        let slots = Arc::new(Semaphore::new(1));
        let h = hash(&slots, "right horse".into()).await.unwrap();
        assert!(
            verify(&slots, "right horse".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(&slots, "wrong".into(), Some(h)).await.unwrap());
        assert!(!verify(&slots, "anything".into(), None).await.unwrap());
        assert!(
            !verify(&slots, "x".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }
}
