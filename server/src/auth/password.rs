//! Password hashing with Argon2id.
//!
//! Hashing is deliberately slow (tens of milliseconds), so it runs on the blocking pool
//! and never stalls the async workers that relay document updates.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// A hash that no password matches, checked when the user does not exist so that a
/// wrong username takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0Ji3B5A0V7y6R3p3oQ1cW+vL4d1Xo0G6Q4V7l0K4x0A";

/// Hashes a new password.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await?
}

/// Whether `password` matches `hash`; `None` stands for an unknown user.
pub async fn verify_password(hash: Option<String>, password: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_matches_its_hash_only() {
        let hash = hash_password("rätt lösenord".into()).await.unwrap();
        assert!(
            verify_password(Some(hash.clone()), "rätt lösenord".into())
                .await
                .unwrap()
        );
        assert!(!verify_password(Some(hash), "fel".into()).await.unwrap());
        assert!(!verify_password(None, "rätt lösenord".into()).await.unwrap());
    }
}
