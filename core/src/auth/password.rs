//! Argon2 password hashing, off the async threads and bounded.
//!
//! Each hash works in about 19 MiB of memory for tens of milliseconds. [`Passwords`] lets at
//! most [`MAX_CONCURRENT_HASHES`] run at once (the others wait for a slot) and gives each a
//! working buffer it keeps for the next one, so a flood of logins costs queueing, not memory.
//! The buffers are ours, not argon2's per-call allocation, because freeing those does not give
//! the memory back to the system: glibc raises its mmap threshold after the first 19 MiB free,
//! and the aligned allocations that follow stay in the heap, so resident memory grew by about
//! 10 MiB per wrong password (1.4 GiB after 150 of them, measured with
//! `scripts/login-flood.py`).
//!
//! An unknown username is checked against a dummy hash with the same parameters, so that it
//! takes as long as a known one and the answer time does not tell which usernames exist.

use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{CoreError, CoreResult};

/// Hashes computed at the same time, per process.
pub const MAX_CONCURRENT_HASHES: usize = 4;
/// The largest memory cost (KiB) a stored hash may ask for: 4 times the default.
const MAX_M_COST: u32 = 4 * Params::DEFAULT_M_COST;

/// The bounded hashing pool of a process (held by `Core`).
pub struct Passwords {
    slots: Arc<Semaphore>,
    /// Working memory, one buffer per hash in flight, kept between hashes.
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new(MAX_CONCURRENT_HASHES)
    }
}

impl Passwords {
    pub fn new(concurrent: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(concurrent.max(1))),
            buffers: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on a blocking thread with a slot and a working buffer.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> CoreResult<T> {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CoreError::Internal("the password slots are closed".into()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut buf = me.take_buffer();
            let out = f(&mut buf);
            me.put_buffer(buf);
            out
        })
        .await
        .map_err(|e| CoreError::Internal(format!("password task failed: {e}")))
    }

    fn take_buffer(&self) -> Vec<Block> {
        self.buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default()
    }

    fn put_buffer(&self, buf: Vec<Block>) {
        self.buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(buf);
    }

    /// A PHC string for `password` (argon2id, default parameters, a random salt).
    pub async fn hash(self: &Arc<Self>, password: String) -> CoreResult<String> {
        self.run(move |buf| hash_with(buf, &password)).await?
    }

    /// True when `password` matches the stored PHC string. No stored hash (an unknown account)
    /// is checked against a dummy one and never matches; a malformed stored hash never matches.
    pub async fn verify(
        self: &Arc<Self>,
        password: String,
        stored: Option<String>,
    ) -> CoreResult<bool> {
        self.run(move |buf| {
            let known = stored.is_some();
            let stored = stored.as_deref().unwrap_or_else(|| dummy_hash());
            let ok = verify_with(buf, password.as_bytes(), stored);
            known && ok
        })
        .await
    }
}

fn argon2_default() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

fn hash_with(buf: &mut Vec<Block>, password: &str) -> CoreResult<String> {
    let fail =
        |e: &dyn std::fmt::Display| CoreError::Internal(format!("password hashing failed: {e}"));
    let salt: [u8; 16] = super::secrets::random_bytes();
    let params = Params::DEFAULT;
    let blocks = params.block_count();
    if buf.len() < blocks {
        buf.resize(blocks, Block::new());
    }
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_default()
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, &mut buf[..blocks])
        .map_err(|e| fail(&e))?;
    // The PHC string `hash_password` would write for this salt and output.
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| fail(&e))?,
        salt: Some(Salt::try_from(salt.as_slice()).map_err(|e| fail(&e))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(phc.to_string())
}

/// Recomputes the stored hash's output for `password` in `buf` and compares in constant time.
fn verify_with(buf: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST {
        return false;
    }
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    if buf.len() < blocks {
        buf.resize(blocks, Block::new());
    }
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, &mut buf[..blocks])
        .is_ok()
        && Output::new(out).is_ok_and(|o| &o == expected)
}

/// A hash of nothing anyone knows, with the parameters of real ones.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2_default()
            .hash_password(super::secrets::random_token(24).as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_no_account_never_does() {
        let p = Arc::new(Passwords::new(1));
        let h = p.hash("right horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(
            p.verify("right horse".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!p.verify("wrong".into(), Some(h)).await.unwrap());
        assert!(!p.verify("anything".into(), None).await.unwrap());
        assert!(
            !p.verify("x".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn hashes_written_by_the_argon2_crate_itself_verify() {
        let p = Arc::new(Passwords::new(2));
        let theirs = argon2_default()
            .hash_password(b"correct-horse-battery")
            .unwrap()
            .to_string();
        assert!(
            p.verify("correct-horse-battery".into(), Some(theirs.clone()))
                .await
                .unwrap()
        );
        assert!(
            !p.verify("correct-horse".into(), Some(theirs))
                .await
                .unwrap()
        );
    }
}
