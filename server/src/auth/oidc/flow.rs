//! One sign-in in progress: the values the callback must find again.
//!
//! `state` ties the callback to the browser that started the sign-in (no one can sign a
//! victim into the attacker's account by sending them a callback link), `nonce` ties the
//! ID token to this sign-in (a token issued for another cannot be replayed), and the PKCE
//! `verifier` ties the code to this client (a code intercepted on its way back is useless
//! without it). They travel in one cookie, sealed with HMAC-SHA256 under a key kept in
//! the database (`settings`), so every node of a cluster can check what another sealed
//! and nothing is kept in memory per sign-in. The cookie lives ten minutes and is
//! removed by the callback.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The cookie a sign-in in progress lives in.
pub const FLOW_COOKIE: &str = "forankra_oidc";
/// The path it is sent on: only the callback needs it.
pub const FLOW_COOKIE_PATH: &str = "/auth/oidc";
/// How long a user may take at the provider's sign-in page.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
/// Longest sealed flow looked at (a real one is about 250 bytes).
const MAX_SEALED_BYTES: usize = 1024;

type HmacSha256 = Hmac<Sha256>;

/// The values one sign-in needs at its callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    /// The provider the sign-in went to (its id here): its callback alone may finish it.
    #[serde(default)]
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// Unix seconds after which the flow is refused.
    pub exp: u64,
}

fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

impl Flow {
    /// A fresh flow: 256 random bits each (the verifier is 43 characters, RFC 7636's least).
    pub fn start(provider: &str, now: u64) -> Self {
        Self {
            provider: provider.to_owned(),
            state: random_text(),
            nonce: random_text(),
            verifier: random_text(),
            exp: now + FLOW_TTL.as_secs(),
        }
    }

    /// The PKCE S256 challenge of the verifier.
    pub fn challenge(&self) -> String {
        B64.encode(Sha256::digest(self.verifier.as_bytes()))
    }

    /// The cookie value: the flow as base64url JSON, a dot, its HMAC.
    pub fn seal(&self, key: &[u8]) -> String {
        let body = B64.encode(serde_json::to_vec(self).unwrap_or_default());
        let tag = B64.encode(mac(key, body.as_bytes()).finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// Checks a cookie value's seal and age and the `state` the provider sent back.
    pub fn open(sealed: &str, key: &[u8], state: &str, now: u64) -> Result<Self, String> {
        if sealed.len() > MAX_SEALED_BYTES {
            return Err("the sign-in cookie is too long".into());
        }
        let (body, tag) = sealed
            .split_once('.')
            .ok_or("the sign-in cookie is malformed")?;
        let tag = B64
            .decode(tag)
            .map_err(|_| "the sign-in cookie is malformed")?;
        mac(key, body.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| "the sign-in cookie was altered")?;
        let json = B64
            .decode(body)
            .map_err(|_| "the sign-in cookie is malformed")?;
        let flow: Flow =
            serde_json::from_slice(&json).map_err(|_| "the sign-in cookie is malformed")?;
        if flow.exp < now {
            return Err("the sign-in took too long; start again".into());
        }
        // Not secret from this browser, but compared in constant time all the same.
        let same = flow.state.len() == state.len()
            && flow
                .state
                .bytes()
                .zip(state.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same {
            return Err("the answer belongs to another sign-in (state differs)".into());
        }
        Ok(flow)
    }
}

fn mac(key: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_flow_opens_with_its_key_and_state_only() {
        let flow = Flow::start("stad", 1000);
        let sealed = flow.seal(b"key");
        assert_eq!(
            Flow::open(&sealed, b"key", &flow.state, 1000).unwrap(),
            flow
        );
        assert!(Flow::open(&sealed, b"other", &flow.state, 1000).is_err());
        assert!(Flow::open(&sealed, b"key", "another-state", 1000).is_err());
        assert!(Flow::open(&sealed, b"key", &flow.state, 1000 + 601).is_err());
        let mut altered = sealed.clone();
        altered.insert(3, 'A');
        assert!(Flow::open(&altered, b"key", &flow.state, 1000).is_err());
        assert!(Flow::open("no-dot", b"key", &flow.state, 1000).is_err());
    }

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636 appendix B.
        let flow = Flow {
            provider: String::new(),
            state: String::new(),
            nonce: String::new(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            exp: 0,
        };
        assert_eq!(
            flow.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
