//! Rotating check-in codes: nothing is stored per code. A code is an HMAC-SHA256 of the
//! meeting id and the 30-second window, keyed by a secret derived from the JWT secret, shown as
//! six digits (the dynamic truncation of RFC 4226). The organiser's phone shows the current
//! window's code; a member's check-in is accepted with the current or the previous one.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Seconds a code is shown for.
pub const WINDOW_SECS: i64 = 30;

/// The window an instant falls in.
pub fn window_of(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(WINDOW_SECS)
}

/// When a window ends (its code is then the "previous" one for one more window).
pub fn window_end(window: i64) -> DateTime<Utc> {
    DateTime::from_timestamp((window + 1) * WINDOW_SECS, 0).unwrap_or_default()
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The key for check-in codes: derived from the JWT secret, so that it is never the token key
/// itself and every process of a deployment (which shares the JWT secret) agrees on it.
pub fn derive_key(jwt_secret: &str) -> [u8; 32] {
    hmac_sha256(jwt_secret.as_bytes(), b"fingertip meeting check-in v1")
}

/// The six-digit code of a meeting in a window.
pub fn code(key: &[u8; 32], meeting_id: i64, window: i64) -> String {
    let mac = hmac_sha256(
        key,
        format!("meeting:{meeting_id}:window:{window}").as_bytes(),
    );
    let offset = (mac[31] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    format!("{:06}", bin % 1_000_000)
}

/// Whether `given` is the code of the window of `now` or of the one before it. Compared in
/// constant time.
pub fn accepts(key: &[u8; 32], meeting_id: i64, now: DateTime<Utc>, given: &str) -> bool {
    let given = given.trim();
    let w = window_of(now);
    [w, w - 1].iter().any(|w| {
        code(key, meeting_id, *w)
            .as_bytes()
            .ct_eq(given.as_bytes())
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn codes_rotate_and_the_previous_one_is_accepted() {
        let key = derive_key("secret");
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let now = code(&key, 7, window_of(t));
        assert_eq!(now.len(), 6);
        assert!(accepts(&key, 7, t, &now));
        assert!(accepts(&key, 7, t + chrono::Duration::seconds(30), &now));
        assert!(!accepts(&key, 7, t + chrono::Duration::seconds(60), &now));
        assert_ne!(code(&key, 8, window_of(t)), now);
    }
}
