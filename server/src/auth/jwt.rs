//! Signing and checking tokens.
//!
//! The algorithm is pinned: a server configured for HS256 accepts only HS256 tokens
//! signed with its secret, and one configured with an identity provider's public key
//! accepts only RS256 tokens signed by that key. A token naming another algorithm
//! (`none`, or HS256 with the public key as its secret: the classic confusion attack)
//! is refused before its signature is looked at.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::auth::revocation::{Revocations, Revoked};
use crate::ids::{OrgId, UserId};

/// Clock skew tolerated when checking `exp` and `nbf`.
const LEEWAY_SECS: u64 = 5;
/// Longest display name accepted from a token.
const MAX_NAME_CHARS: usize = 200;

/// Why a token was refused (or could not be made).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a token is required")]
    Missing,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("this server does not sign tokens: it trusts an external identity provider")]
    CannotIssue,
    #[error("the key could not be read: {0}")]
    BadKey(String),
    /// A valid token of a disabled user, or from before their sessions were ended.
    #[error("{0}")]
    Revoked(#[from] Revoked),
}

/// The claims of every token: who the user is and which organisation they act for.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub name: String,
    pub org: String,
    pub exp: u64,
    pub iat: u64,
    /// Set only on a WebSocket ticket ([`TokenKeys::issue_ticket`]): its one-time id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The claims of a token for `identity`, issued now and good for `ttl`.
    fn new(identity: &Identity, ttl: Duration, jti: Option<String>) -> Self {
        let now = unix_now();
        Self {
            sub: identity.user.to_string(),
            name: identity.name.clone(),
            org: identity.org.to_string(),
            iat: now,
            exp: now + ttl.as_secs(),
            jti,
        }
    }
}

/// How long a WebSocket ticket is good for: enough for the page to open its socket.
pub const TICKET_TTL: Duration = Duration::from_secs(30);

/// A checked identity: the claims after validation, with typed ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub user: UserId,
    pub name: String,
    pub org: OrgId,
}

/// The keys a server signs and checks tokens with.
pub struct TokenKeys {
    algorithm: Algorithm,
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    /// Users whose sign-ins were ended, refused however good their token.
    revocations: Revocations,
    /// WebSocket tickets already used, with their expiry (Unix seconds), so each is
    /// accepted once; expired ones are forgotten as new ones are used.
    used_tickets: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// Our own tokens, HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret),
            encoding: Some(EncodingKey::from_secret(secret)),
            revocations: Revocations::default(),
            used_tickets: Mutex::default(),
        }
    }

    /// An external identity provider's RS256 tokens. With a private key this server can
    /// also sign (for tests and `forankra token`); without one it only verifies.
    pub fn rs256(public_pem: &[u8], private_pem: Option<&[u8]>) -> Result<Self, AuthError> {
        let decoding =
            DecodingKey::from_rsa_pem(public_pem).map_err(|e| AuthError::BadKey(e.to_string()))?;
        let encoding = private_pem
            .map(EncodingKey::from_rsa_pem)
            .transpose()
            .map_err(|e| AuthError::BadKey(e.to_string()))?;
        Ok(Self {
            algorithm: Algorithm::RS256,
            decoding,
            encoding,
            revocations: Revocations::default(),
            used_tickets: Mutex::default(),
        })
    }

    /// The ended sign-ins [`TokenKeys::verify`] refuses; refreshed from the database by
    /// [`crate::auth::revocation::run`].
    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    /// Whether this server can sign tokens (password login needs it).
    pub fn can_issue(&self) -> bool {
        self.encoding.is_some()
    }

    /// Signs a token for `identity`, valid for `ttl`.
    pub fn issue(&self, identity: &Identity, ttl: Duration) -> Result<String, AuthError> {
        self.sign(&Claims::new(identity, ttl, None))
    }

    /// Signs a WebSocket ticket for `identity`: good once, for [`TICKET_TTL`], so the
    /// page's long-lived credential never travels in a URL (where proxies and browser
    /// consoles show it). Refused as a bearer token ([`TokenKeys::verify_bearer`]).
    pub fn issue_ticket(&self, identity: &Identity) -> Result<String, AuthError> {
        let mut id = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
        self.sign(&Claims::new(identity, TICKET_TTL, Some(hex::encode(id))))
    }

    fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        let key = self.encoding.as_ref().ok_or(AuthError::CannotIssue)?;
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, key)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// As [`TokenKeys::verify`], for HTTP: a WebSocket ticket is refused here, so a
    /// leaked ticket opens at most one socket and never reaches the API.
    pub fn verify_bearer(&self, token: &str) -> Result<Identity, AuthError> {
        let (identity, claims) = self.decode(token)?;
        if claims.jti.is_some() {
            return Err(AuthError::Invalid(
                "a WebSocket ticket is not a bearer token".into(),
            ));
        }
        Ok(identity)
    }

    /// Checks signature, algorithm, expiry and, when the token has one, its not-before
    /// time (`nbf`: an identity provider may issue tokens for later; issue 13 found it
    /// ignored), then the claims' contents, then that the user's sign-ins were not
    /// ended (disabled, or sessions ended after the token was issued).
    /// A WebSocket ticket passes once: a second use is refused.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        let (identity, claims) = self.decode(token)?;
        if let Some(id) = claims.jti {
            self.use_ticket(id, claims.exp)?;
        }
        Ok(identity)
    }

    /// Marks a ticket used; refused if it was. Each node keeps its own list: a ticket
    /// replayed within its 30 s on another node of a cluster would pass there once.
    fn use_ticket(&self, id: String, exp: u64) -> Result<(), AuthError> {
        let now = unix_now();
        let mut used = self
            .used_tickets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        used.retain(|_, until| *until + LEEWAY_SECS >= now);
        if used.insert(id, exp).is_some() {
            return Err(AuthError::Invalid("this ticket was already used".into()));
        }
        Ok(())
    }

    fn decode(&self, token: &str) -> Result<(Identity, Claims), AuthError> {
        let mut validation = Validation::new(self.algorithm);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                _ => AuthError::Invalid(e.to_string()),
            },
        )?;
        let claims = data.claims;
        let user = UserId::parse(claims.sub.clone())
            .map_err(|e| AuthError::Invalid(format!("sub: {e}")))?;
        let org = OrgId::parse(claims.org.clone())
            .map_err(|e| AuthError::Invalid(format!("org: {e}")))?;
        let name = check_name(claims.name.clone())?;
        self.revocations.check(user.as_str(), claims.iat)?;
        Ok((Identity { user, name, org }, claims))
    }
}

/// Display names end up in every other user's presence list; keep them printable and short.
pub fn check_name(name: String) -> Result<String, AuthError> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(AuthError::Invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AuthError::Invalid(
            "name contains control characters".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anna() -> Identity {
        Identity {
            user: UserId::parse("anna").unwrap(),
            name: "Anna Lindqvist".into(),
            org: OrgId::parse("utbildningsforvaltningen").unwrap(),
        }
    }

    #[test]
    fn a_token_round_trips_and_a_foreign_secret_is_refused() {
        let keys = TokenKeys::hs256(b"secret-one");
        let token = keys.issue(&anna(), Duration::from_secs(60)).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), anna());
        let other = TokenKeys::hs256(b"secret-two");
        assert!(matches!(other.verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = TokenKeys::hs256(b"s");
        let claims = Claims {
            sub: "a".into(),
            name: "A".into(),
            org: "o".into(),
            iat: 1,
            exp: 2,
            jti: None,
        };
        let token =
            jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(b"s"))
                .unwrap();
        assert!(matches!(keys.verify(&token), Err(AuthError::Expired)));
    }

    #[test]
    fn a_token_not_valid_yet_is_refused_and_a_past_nbf_is_fine() {
        let keys = TokenKeys::hs256(b"s");
        let now = unix_now();
        let sign = |nbf: u64| {
            let claims = serde_json::json!({
                "sub": "a", "name": "A", "org": "o", "iat": now, "exp": now + 3600, "nbf": nbf,
            });
            jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(b"s"))
                .unwrap()
        };
        assert!(matches!(
            keys.verify(&sign(now + 600)),
            Err(AuthError::NotYetValid)
        ));
        assert!(keys.verify(&sign(now - 600)).is_ok());
    }

    #[test]
    fn a_ticket_opens_one_socket_and_is_no_bearer_token() {
        let keys = TokenKeys::hs256(b"s");
        let ticket = keys.issue_ticket(&anna()).unwrap();
        assert!(matches!(
            keys.verify_bearer(&ticket),
            Err(AuthError::Invalid(_))
        ));
        assert_eq!(keys.verify(&ticket).unwrap(), anna());
        assert!(matches!(keys.verify(&ticket), Err(AuthError::Invalid(_))));
        let other = keys.issue_ticket(&anna()).unwrap();
        assert!(keys.verify(&other).is_ok(), "each ticket has its own id");
        let token = keys.issue(&anna(), Duration::from_secs(60)).unwrap();
        assert!(keys.verify(&token).is_ok() && keys.verify(&token).is_ok());
        assert!(keys.verify_bearer(&token).is_ok());
    }
}
