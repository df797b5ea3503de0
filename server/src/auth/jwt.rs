//! Signing and checking tokens.
//!
//! The algorithm is pinned: a server configured for HS256 accepts only HS256 tokens
//! signed with its secret, and one configured with an identity provider's public key
//! accepts only RS256 tokens signed by that key. A token naming another algorithm
//! (`none`, or HS256 with the public key as its secret: the classic confusion attack)
//! is refused before its signature is looked at.

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
}

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
        let key = self.encoding.as_ref().ok_or(AuthError::CannotIssue)?;
        let now = unix_now();
        let claims = Claims {
            sub: identity.user.to_string(),
            name: identity.name.clone(),
            org: identity.org.to_string(),
            iat: now,
            exp: now + ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, key)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Checks signature, algorithm, expiry and, when the token has one, its not-before
    /// time (`nbf`: an identity provider may issue tokens for later; issue 13 found it
    /// ignored), then the claims' contents, then that the user's sign-ins were not
    /// ended (disabled, or sessions ended after the token was issued).
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
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
        let user =
            UserId::parse(claims.sub).map_err(|e| AuthError::Invalid(format!("sub: {e}")))?;
        let org = OrgId::parse(claims.org).map_err(|e| AuthError::Invalid(format!("org: {e}")))?;
        let name = check_name(claims.name)?;
        self.revocations.check(user.as_str(), claims.iat)?;
        Ok(Identity { user, name, org })
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
}
