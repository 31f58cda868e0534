//! Random tokens, invite codes and hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS random source failing is not something a server can carry on from.
    getrandom::fill(&mut buf).unwrap_or_else(|e| panic!("OS random source failed: {e}"));
    buf
}

/// A URL-safe random token of `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut out = Vec::with_capacity(bytes);
    while out.len() < bytes {
        out.extend_from_slice(&random_bytes::<32>());
    }
    out.truncate(bytes);
    URL_SAFE_NO_PAD.encode(out)
}

/// The alphabet of invite codes: no 0/O, 1/I/L, so that a code read over the phone survives.
const INVITE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const INVITE_CODE_LEN: usize = 8;

pub fn invite_code() -> String {
    random_bytes::<INVITE_CODE_LEN>()
        .iter()
        .map(|b| INVITE_ALPHABET[*b as usize % INVITE_ALPHABET.len()] as char)
        .collect()
}

/// Normalises what a member typed: case and spaces do not matter.
pub fn normalize_invite_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

pub fn sha256_hex(s: &str) -> String {
    // One string, written from a table (`hex`), rather than a string per byte.
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lower_hex_as_stored() {
        // Stored hashes (refresh tokens, tickets, links) are compared with this text.
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn invite_codes_use_the_unambiguous_alphabet() {
        let c = invite_code();
        assert_eq!(c.len(), INVITE_CODE_LEN);
        assert!(c.bytes().all(|b| INVITE_ALPHABET.contains(&b)));
        assert_eq!(normalize_invite_code(" ab2c-d3ef "), "AB2CD3EF");
    }

    #[test]
    fn tokens_differ_and_carry_enough_entropy() {
        let (a, b) = (random_token(32), random_token(32));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
