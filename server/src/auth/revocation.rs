//! Ended sign-ins: disabled users, and tokens issued before a user's sessions were ended.
//!
//! Our tokens are stateless JWTs, checked on every request and at every WebSocket
//! admission by [`TokenKeys::verify`](crate::auth::TokenKeys::verify), which is
//! synchronous and needs nothing but the keys. Disabling a user (`forankra user
//! disable`, often run from another process or on another node) must still end their
//! sign-ins at once. So each node keeps the short list of users with ended sessions in
//! memory, next to the keys, and rereads it from the database every
//! `--membership-recheck` (1 s by default), the interval in which a revoked role already
//! reaches open sockets. The list holds only users who were disabled or had their
//! sessions ended, so it stays small however many users there are; one query reads it.
//!
//! Open sockets are closed by the membership recheck instead: the access check
//! (`authorize`) lists a document's disabled users, and a room closes their connections
//! with 4403 as for any revoked role.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::on_pool;
use crate::storage::{Db, StoreError};

/// What is known about one user whose sign-ins were ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Disabled: every token of theirs is refused.
    pub disabled: bool,
    /// Tokens issued (`iat`, Unix seconds) before this second are refused.
    pub before_secs: u64,
}

/// Why a token of an ended sign-in is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Revoked {
    #[error("this account is disabled")]
    Disabled,
    #[error("this sign-in has ended; sign in again")]
    SessionEnded,
}

/// The users whose sign-ins were ended, shared by every request on this node.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    ended: Arc<RwLock<HashMap<String, Ended>>>,
}

impl Revocations {
    /// Whether a token for `user` issued at `iat` (Unix seconds) is still good.
    ///
    /// A session ended at second S refuses tokens issued before S: a token issued in the
    /// same second as the revocation but before it stays valid (the `iat` claim has
    /// whole seconds); disabling leaves no such gap.
    pub fn check(&self, user: &str, iat: u64) -> Result<(), Revoked> {
        let ended = self
            .ended
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match ended.get(user) {
            Some(e) if e.disabled => Err(Revoked::Disabled),
            Some(e) if iat < e.before_secs => Err(Revoked::SessionEnded),
            _ => Ok(()),
        }
    }

    /// Rereads the list from the database, replacing what was known.
    pub async fn refresh(&self, db: &Db) -> Result<(), StoreError> {
        let fresh = db.ended_sessions().await?;
        *self
            .ended
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        Ok(())
    }
}

/// Rereads the list every `interval` until shutdown; a failed read keeps the last list
/// and is tried again at the next tick.
pub async fn run(
    db: Db,
    revocations: Revocations,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let interval = interval.max(Duration::from_millis(100));
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = revocations.refresh(&db).await {
                    tracing::warn!(%error, "rereading ended sign-ins failed");
                }
            }
            () = shutdown.cancelled() => return,
        }
    }
}

impl Db {
    /// Every user who is disabled or whose sessions were ended, by id.
    pub async fn ended_sessions(&self) -> Result<HashMap<String, Ended>, StoreError> {
        type Row = (String, Option<i64>, Option<i64>);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, disabled_at, sessions_revoked_at FROM users \
                 WHERE disabled_at IS NOT NULL OR sessions_revoked_at IS NOT NULL",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, disabled_at, revoked_at)| {
                let before_secs = revoked_at.map_or(0, |ms| u64::try_from(ms / 1000).unwrap_or(0));
                let ended = Ended {
                    disabled: disabled_at.is_some(),
                    before_secs,
                };
                (id, ended)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(user: &str, ended: Ended) -> Revocations {
        let revocations = Revocations::default();
        revocations
            .ended
            .write()
            .unwrap()
            .insert(user.to_owned(), ended);
        revocations
    }

    #[test]
    fn a_disabled_user_is_refused_whenever_the_token_was_issued() {
        let r = with(
            "anna",
            Ended {
                disabled: true,
                before_secs: 0,
            },
        );
        assert_eq!(r.check("anna", u64::MAX), Err(Revoked::Disabled));
        assert_eq!(r.check("bo", 1), Ok(()));
    }

    #[test]
    fn only_tokens_from_before_the_end_are_refused() {
        let r = with(
            "anna",
            Ended {
                disabled: false,
                before_secs: 1_000,
            },
        );
        assert_eq!(r.check("anna", 999), Err(Revoked::SessionEnded));
        assert_eq!(r.check("anna", 1_000), Ok(()));
        assert_eq!(r.check("anna", 1_001), Ok(()));
    }
}
