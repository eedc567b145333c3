//! Sealing the pair a refresh token was exchanged for, so that the grace window can hand
//! it out again without the database holding usable tokens.
//!
//! The key is derived from the *spent* refresh token itself, which the database never
//! holds (only its `jti`): whoever presents that token again can open the pair, and a
//! reader of the database alone cannot. ChaCha20-Poly1305 seals it (authenticated, so a
//! row tampered with opens to nothing). Each key seals exactly one message — a token is
//! spent once, and the access and refresh tokens of the pair use separate labels — so the
//! fixed nonce is never reused under one key.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

fn cipher(spent_token: &str, label: &str) -> ChaCha20Poly1305 {
    let key = Sha256::new()
        .chain_update(b"siprems refresh successor v2\0")
        .chain_update(label.as_bytes())
        .chain_update(b"\0")
        .chain_update(spent_token.as_bytes())
        .finalize();
    let key: [u8; 32] = key.into();
    ChaCha20Poly1305::new(&Key::from(key))
}

/// `token` sealed under `spent_token` (hex).
pub(super) fn seal(spent_token: &str, label: &str, token: &str) -> String {
    cipher(spent_token, label)
        .encrypt(&Nonce::default(), token.as_bytes())
        .map(|sealed| sealed.iter().map(|byte| format!("{byte:02x}")).collect())
        // Encrypting a short in-memory message cannot fail; an empty seal opens to nothing.
        .unwrap_or_default()
}

/// Opens what [`seal`] made with the same spent token and label.
pub(super) fn open(spent_token: &str, label: &str, sealed: &str) -> Option<String> {
    if !sealed.len().is_multiple_of(2) || !sealed.is_ascii() {
        return None;
    }
    let bytes = (0..sealed.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&sealed[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let opened = cipher(spent_token, label)
        .decrypt(&Nonce::default(), bytes.as_slice())
        .ok()?;
    String::from_utf8(opened).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_spent_token_opens_the_pair() {
        let token = "eyJhbGciOiJIUzI1NiJ9.a-long-enough-payload-spanning-several-blocks.sig";
        let sealed = seal("spent-one", "refresh", token);
        assert!(!sealed.contains("eyJ"));
        assert_eq!(
            open("spent-one", "refresh", &sealed).as_deref(),
            Some(token)
        );
        assert_eq!(open("spent-two", "refresh", &sealed), None);
        assert_eq!(open("spent-one", "access", &sealed), None);
        // A row tampered with opens to nothing.
        let mut tampered = sealed.clone().into_bytes();
        tampered[0] = if tampered[0] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            open(
                "spent-one",
                "refresh",
                &String::from_utf8(tampered).unwrap()
            ),
            None
        );
        assert_eq!(open("spent-one", "refresh", "zz"), None);
    }
}
