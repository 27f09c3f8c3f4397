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

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let (a, b) = (super::new_token(), super::new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(super::hash_token(&a), super::hash_token(&a));
        assert_ne!(super::hash_token(&a), super::hash_token(&b));
    }
}
