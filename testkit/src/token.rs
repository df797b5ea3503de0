//! Tokens as a client presents them: the claims of DESIGN.md (`sub`, `name`, `org`,
//! `exp`, `iat`), signed with the server's own [`TokenKeys`] so the kit never encodes
//! claims itself and cannot drift from what the server checks.

use std::time::Duration;

use anyhow::Result;
use forankra::auth::{Identity, TokenKeys};
use forankra::ids::{OrgId, UserId};

/// Who a token names; fails on an id the server would refuse.
pub fn identity(user: &str, name: &str, org: &str) -> Result<Identity> {
    Ok(Identity {
        user: UserId::parse(user)?,
        name: name.to_owned(),
        org: OrgId::parse(org)?,
    })
}

/// A token for `user` (shown as `name`) of `org`, valid for `ttl`, signed with `keys`
/// (an in-process server's `state.tokens`).
pub fn sign(keys: &TokenKeys, user: &str, name: &str, org: &str, ttl: Duration) -> Result<String> {
    Ok(keys.issue(&identity(user, name, org)?, ttl)?)
}

/// A token a server started with `--jwt-secret secret` accepts.
pub fn hs256(secret: &str, user: &str, name: &str, org: &str, ttl: Duration) -> Result<String> {
    sign(&TokenKeys::hs256(secret.as_bytes()), user, name, org, ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_with_the_same_secret_only() -> Result<()> {
        let token = hs256(
            "s1",
            "anna",
            "Anna",
            "stadsledningskontoret",
            Duration::from_secs(60),
        )?;
        let identity = TokenKeys::hs256(b"s1").verify(&token)?;
        assert_eq!(identity.user.to_string(), "anna");
        assert_eq!(identity.name, "Anna");
        assert_eq!(identity.org.to_string(), "stadsledningskontoret");
        assert!(TokenKeys::hs256(b"s2").verify(&token).is_err());
        Ok(())
    }

    #[test]
    fn an_id_the_server_refuses_is_an_error() {
        assert!(identity("", "Ingen", "stadsledningskontoret").is_err());
    }
}
