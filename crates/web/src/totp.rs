//! Authenticator-app codes (RFC 6238: 30-second steps, SHA-1, 6 digits, one step either side)
//! and recovery codes. Secrets are 160 random bits; recovery codes are stored hashed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

/// A new secret, as base32 text for storage and for typing into an app.
pub(crate) fn new_secret() -> String {
    let mut bytes = [0_u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::from(bytes).to_base32()
}

fn totp(secret: &str, issuer: &str, account: &str) -> Option<Totp> {
    // The otpauth format reserves ':' in both names.
    let issuer = issuer.replace(':', " ");
    Builder::new()
        .with_secret(Secret::try_from_base32(secret).ok()?)
        .with_issuer(Some(issuer.trim().to_string()))
        .with_account_name(account.replace(':', " "))
        .build()
        .ok()
}

/// The step of the current time window that `code` matches, if any (±1 step).
pub(crate) fn check(secret: &str, code: &str) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "Portico", "")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    totp.check(&code, now)
        .and_then(|step| i64::try_from(step).ok())
}

/// The enrolment QR code (an `otpauth://` URL) as an SVG data URI for an `<img>`.
pub(crate) fn qr_data_uri(secret: &str, issuer: &str, account: &str) -> Option<String> {
    let url = totp(secret, issuer, account)?.to_url().ok()?;
    let svg = qrcode::QrCode::new(url.as_bytes())
        .ok()?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(220, 220)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(svg)
    ))
}

/// The secret grouped in fours, easier to type.
pub(crate) fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ten recovery codes like `7kq2m-xp9rd`, shown once.
pub(crate) fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    (0..10)
        .map(|_| {
            let mut bytes = [0_u8; 10];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// The stored form of a recovery code: typed case, spaces and dashes do not matter.
pub(crate) fn recovery_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Sha256::digest(normal.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_code_checks_and_a_wrong_one_does_not() {
        let secret = new_secret();
        let t = totp(&secret, "Firm: A", "a@b.c").unwrap();
        let code = t.generate_current();
        assert!(check(&secret, &code.to_string()).is_some());
        assert!(check(&secret, "000000").is_none() || code.to_string() == "000000");
        assert!(check(&secret, "12345").is_none());
        assert!(check(&secret, "abcdef").is_none());
        assert!(
            qr_data_uri(&secret, "Firm: A", "a@b.c")
                .unwrap()
                .starts_with("data:image/svg+xml;base64,")
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(
            codes.iter().collect::<std::collections::HashSet<_>>().len(),
            10
        );
        assert_eq!(
            recovery_hash(&codes[0]),
            recovery_hash(&format!(" {} ", codes[0].to_uppercase().replace('-', "")))
        );
    }
}
