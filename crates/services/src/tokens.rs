//! Secrets handed to people (session cookies, links, API tokens): 256 random bits, sent as
//! base64url, stored only as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn new_token() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Letters and digits that cannot be mistaken for each other when read out (no 0/O, 1/I/L).
const KEY_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A registration key staff read out to an invitee: eight characters as `ABCD-2345`.
pub fn new_registration_key() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let chars: String = (0..8)
        .map(|_| KEY_ALPHABET[rng.gen_range(0..KEY_ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The hash of a registration key as typed: case, spaces and dashes do not matter.
pub fn hash_registration_key(typed: &str) -> Vec<u8> {
    let plain: String = typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hash_token(&plain)
}

#[cfg(test)]
mod tests {
    #[test]
    fn registration_keys_are_read_aloud_friendly_and_forgiving_to_type() {
        let key = super::new_registration_key();
        assert_eq!(key.len(), 9);
        assert_eq!(&key[4..5], "-");
        assert!(
            key.chars()
                .all(|c| c == '-' || super::KEY_ALPHABET.contains(&(c as u8)))
        );
        let typed = format!(" {} ", key.to_lowercase().replace('-', " "));
        assert_eq!(
            super::hash_registration_key(&typed),
            super::hash_registration_key(&key)
        );
        assert_ne!(
            super::hash_registration_key("ABCD-2345"),
            super::hash_registration_key("ABCD-2346")
        );
    }

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let (a, b) = (super::new_token(), super::new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(super::hash_token(&a), super::hash_token(&a));
        assert_ne!(super::hash_token(&a), super::hash_token(&b));
    }
}
