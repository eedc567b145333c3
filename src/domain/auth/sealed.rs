//! Sealing the pair a refresh token was exchanged for, so that the grace window can hand
//! it out again without the database holding usable tokens.
//!
//! The key is derived from the *spent* refresh token itself, which the database never
//! holds (only its `jti`): whoever presents that token again can open the pair, and a
//! reader of the database alone cannot. Each key seals exactly one message (a token is
//! spent once; the access and refresh tokens use separate labels), so a keystream of
//! SHA-256(key ‖ counter) blocks XORed with the message is a one-time pad under the usual
//! random-oracle view of SHA-256. No integrity tag: whoever can write the row can already
//! revoke or rewrite the session, and a tampered token fails its own signature check.

use sha2::{Digest, Sha256};

fn keystream_xor(spent_token: &str, label: &str, data: &[u8]) -> Vec<u8> {
    let key = Sha256::new()
        .chain_update(b"siprems refresh successor v1\0")
        .chain_update(label.as_bytes())
        .chain_update(b"\0")
        .chain_update(spent_token.as_bytes())
        .finalize();
    data.chunks(32)
        .enumerate()
        .flat_map(|(block, chunk)| {
            let pad = Sha256::new()
                .chain_update(key)
                .chain_update((block as u64).to_le_bytes())
                .finalize();
            chunk
                .iter()
                .zip(pad)
                .map(|(byte, pad)| byte ^ pad)
                .collect::<Vec<u8>>()
        })
        .collect()
}

/// `token` sealed under `spent_token` (hex).
pub(super) fn seal(spent_token: &str, label: &str, token: &str) -> String {
    keystream_xor(spent_token, label, token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
    String::from_utf8(keystream_xor(spent_token, label, &bytes)).ok()
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
        assert_ne!(
            open("spent-two", "refresh", &sealed).as_deref(),
            Some(token)
        );
        // Labels give separate keystreams for the two tokens of a pair.
        assert_ne!(seal("spent-one", "access", token), sealed);
        assert_eq!(open("spent-one", "refresh", "zz"), None);
    }
}
