//! Signing deliveries: `X-Forankra-Signature: sha256=HEX`, the HMAC-SHA256 of
//! `TIMESTAMP.BODY` keyed with the webhook's secret (its UTF-8 bytes, as shown to the
//! owner). The timestamp is signed too, so a receiver that rejects old timestamps cannot
//! be fed a recorded delivery again.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of randomness in a new secret.
pub const SECRET_BYTES: usize = 32;

/// A new random secret: 32 bytes, URL-safe base64 without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `X-Forankra-Signature` value for a body sent at `timestamp` (epoch ms).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_timestamp_dot_body() {
        // Python: hmac.new(b"Jefe", b'1700000000000.{"a":1}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign("Jefe", 1_700_000_000_000, r#"{"a":1}"#),
            "sha256=2e2c3965aaac4895200c348195276213e958abd6dce3b8dc194223735af4bc81"
        );
        assert_ne!(
            sign("Jefe", 1, "x"),
            sign("Jefe", 2, "x"),
            "the time is signed"
        );
        assert_ne!(sign("Jefe", 1, "x"), sign("jefe", 1, "x"));
    }

    #[test]
    fn secrets_are_long_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
