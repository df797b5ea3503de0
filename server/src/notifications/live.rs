//! The live bell: every open page of a user learns at once that their inbox changed, on
//! any node.
//!
//! A page holds one event stream (`GET /api/me/events`, [`crate::notifications::stream`]).
//! What travels is only *whose* inbox changed; each stream then rereads its own user's
//! unread count and newest item from the database and sends them if they differ from
//! what it sent last. So a signal is a few bytes, a lost or repeated one costs a reread
//! and never a wrong count, and a slow reader holds nothing but the latest generation
//! (a `watch` channel keeps one value, not a queue).
//!
//! How the signal travels, always after the change is committed:
//! - **PostgreSQL**: the raising transaction NOTIFYs the cluster channel
//!   ([`Notice::Inbox`]); PostgreSQL delivers it only if the transaction commits, to every
//!   node's listener, this node's included, which hands it to its [`Bells`] through
//!   `cluster::listener::InboxSink`. A mark-read NOTIFYs the same way from the pool.
//! - **SQLite** (one node): the raising transaction registers an after-commit effect
//!   that sends the users on a process-wide channel ([`COMMITTED`]), which each server's
//!   [`Bells`] relays. A use case reaches notifications only through its `Tx`, which
//!   carries no server handle, so the effect cannot name this server's [`Bells`]; the
//!   mail worker's wake-up is process-wide for the same reason. Two servers in one
//!   process (tests) each hear the other's signals and reread for nothing: harmless.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::cluster::listener::InboxSink;
use crate::cluster::notice::{self, Envelope, Notice};
use crate::ids::UserId;
use crate::on_tx;
use crate::storage::{Db, StoreError, Tx};

/// Open streams one user may hold on one node (a tab each); one more is refused with 429.
pub const MAX_STREAMS_PER_USER: usize = 8;

/// User ids per NOTIFY: ~40 bytes each stays well under the 8000-byte payload limit.
const USERS_PER_NOTICE: usize = 150;

/// Signals waiting for a SQLite server's relay; a relay that falls behind rereads every
/// open stream instead.
const COMMITTED_CAPACITY: usize = 256;

/// Users whose inboxes a committed SQLite transaction changed (see the module header).
static COMMITTED: LazyLock<broadcast::Sender<Arc<[String]>>> =
    LazyLock::new(|| broadcast::channel(COMMITTED_CAPACITY).0);

/// This server's open notification streams, by user; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Bells {
    users: Arc<Mutex<HashMap<String, Bell>>>,
}

#[derive(Debug)]
struct Bell {
    /// Bumped whenever the user's inbox may have changed.
    generation: watch::Sender<u64>,
    streams: usize,
}

/// One open stream's hold on its user's bell; dropping it frees the slot.
#[derive(Debug)]
pub struct Subscription {
    bells: Bells,
    user: String,
    /// Changes when the inbox may have changed.
    pub changes: watch::Receiver<u64>,
}

/// The user already holds [`MAX_STREAMS_PER_USER`] streams here.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many open event streams for this user (at most {MAX_STREAMS_PER_USER})")]
pub struct TooManyStreams;

impl Bells {
    /// An empty set of bells. On SQLite it relays [`COMMITTED`] until `shutdown`; on
    /// PostgreSQL the cluster listener rings it.
    pub fn start(db: &Db, shutdown: CancellationToken) -> Self {
        let bells = Self::default();
        if matches!(db, Db::Sqlite(_)) {
            tokio::spawn(bells.clone().relay_committed(shutdown));
        }
        bells
    }

    async fn relay_committed(self, shutdown: CancellationToken) {
        let mut committed = COMMITTED.subscribe();
        loop {
            tokio::select! {
                received = committed.recv() => match received {
                    Ok(users) => self.ring(&users),
                    Err(broadcast::error::RecvError::Lagged(_)) => self.ring_all(),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Opens a stream for `user`, or refuses it past the cap.
    pub fn subscribe(&self, user: &UserId) -> Result<Subscription, TooManyStreams> {
        let mut users = self.lock();
        let bell = users.entry(user.to_string()).or_insert_with(|| Bell {
            generation: watch::channel(0).0,
            streams: 0,
        });
        if bell.streams >= MAX_STREAMS_PER_USER {
            return Err(TooManyStreams);
        }
        bell.streams += 1;
        Ok(Subscription {
            bells: self.clone(),
            user: user.to_string(),
            changes: bell.generation.subscribe(),
        })
    }

    /// Tells the open streams of `users` on this node to reread.
    pub fn ring<S: AsRef<str>>(&self, users: &[S]) {
        let bells = self.lock();
        for user in users {
            if let Some(bell) = bells.get(user.as_ref()) {
                bell.generation.send_modify(|g| *g = g.wrapping_add(1));
            }
        }
    }

    fn ring_all(&self) {
        for bell in self.lock().values() {
            bell.generation.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// How many streams are open here (all users).
    pub fn open_streams(&self) -> usize {
        self.lock().values().map(|b| b.streams).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bell>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut users = self.bells.lock();
        if let Some(bell) = users.get_mut(&self.user) {
            bell.streams = bell.streams.saturating_sub(1);
            if bell.streams == 0 {
                users.remove(&self.user);
            }
        }
    }
}

impl InboxSink for Bells {
    fn inbox_changed(&self, users: &[String]) {
        self.ring(users);
    }
}

/// Inside the transaction that changes the inboxes of `users`: their streams reread once
/// it commits, on every node (nothing if it rolls back).
pub async fn announce_in(tx: &mut Tx, users: Vec<String>) -> Result<(), StoreError> {
    if users.is_empty() {
        return Ok(());
    }
    if matches!(tx.backend(), crate::storage::Backend::Sqlite) {
        let users: Arc<[String]> = users.into();
        tx.after_commit(move || {
            // No server listening (a CLI process) is no error.
            let _ = COMMITTED.send(users);
        });
        return Ok(());
    }
    for chunk in users.chunks(USERS_PER_NOTICE) {
        let payload = payload(chunk);
        on_tx!(tx, conn => {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(notice::CHANNEL)
                .bind(&payload)
                .execute(&mut *conn)
                .await?;
        });
    }
    Ok(())
}

/// After a committed change to `user`'s inbox outside a use case (marking read): the
/// user's streams reread, here and on the other nodes.
pub async fn announce(db: &Db, bells: &Bells, user: &UserId) -> Result<(), StoreError> {
    match db {
        Db::Sqlite(_) => bells.ring(&[user.as_str()]),
        Db::Postgres(pool) => {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(notice::CHANNEL)
                .bind(payload(&[user.to_string()]))
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// The NOTIFY payload naming `users`; sent by no node in particular (see
/// [`Notice::Inbox`]).
fn payload(users: &[String]) -> String {
    Envelope {
        n: String::new(),
        notice: Notice::Inbox { u: users.to_vec() },
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("a user id")
    }

    #[tokio::test]
    async fn streams_are_capped_per_user_and_freed_on_drop() {
        let bells = Bells::default();
        let held: Vec<Subscription> = (0..MAX_STREAMS_PER_USER)
            .map(|_| bells.subscribe(&user("anna")).expect("under the cap"))
            .collect();
        assert!(bells.subscribe(&user("anna")).is_err());
        assert!(bells.subscribe(&user("bo")).is_ok(), "the cap is per user");
        drop(held);
        assert_eq!(bells.open_streams(), 0);
        assert!(bells.subscribe(&user("anna")).is_ok());
    }

    #[tokio::test]
    async fn a_ring_reaches_only_that_users_streams_and_coalesces() {
        let bells = Bells::default();
        let mut anna = bells.subscribe(&user("anna")).expect("open");
        let bo = bells.subscribe(&user("bo")).expect("open");
        bells.ring(&["anna", "anna", "nobody"]);
        assert!(anna.changes.has_changed().expect("open"));
        assert!(!bo.changes.has_changed().expect("open"));
        anna.changes.borrow_and_update();
        assert!(
            !anna.changes.has_changed().expect("open"),
            "two rings, one reread"
        );
    }

    #[test]
    fn the_payload_names_the_users_and_no_node() {
        let payload = payload(&["anna".into()]);
        assert_eq!(payload, r#"{"n":"","k":"i","u":["anna"]}"#);
        let chunk: Vec<String> = (0..USERS_PER_NOTICE)
            .map(|i| format!("{:036}", i))
            .collect();
        assert!(super::payload(&chunk).len() < notice::MAX_INLINE_PAYLOAD);
    }
}
