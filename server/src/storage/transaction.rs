//! One write transaction on either backend, for a use case that must commit whole.
//!
//! Opening a thread used to be five commits (the organisation, the user, the thread, the
//! audit entry with its webhook deliveries, the first-activity mark); a crash between
//! them left a thread without its audit entry. A use case now begins one [`Tx`], hands it
//! to each store function it needs, and commits once: all of it is stored or none.
//!
//! Work that must only happen once the data is durable (waking the webhook worker) is
//! registered with [`Tx::after_commit`] rather than done inline, so a rolled-back
//! transaction wakes nobody. The store functions are written once against [`on_tx!`],
//! which binds the native connection of whichever backend is open, as [`crate::on_pool!`]
//! does for pools.

use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;

use crate::storage::{Backend, BeginWrite, Db, StoreError};

/// The native transaction of one backend.
pub enum Conn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A write transaction (SQLite's is `BEGIN IMMEDIATE`, so a use case that reads before
/// it writes waits for the lock instead of failing with SQLITE_BUSY). Dropped without
/// [`Tx::commit`], it rolls back.
pub struct Tx {
    /// The open transaction; reach it through [`on_tx!`].
    pub conn: Conn,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx")
            .field("backend", &self.backend())
            .field("after_commit", &self.after_commit.len())
            .finish()
    }
}

/// Runs `$body` with `$conn` bound to the `&mut` native connection of the transaction
/// `$tx`, whichever backend it is on; the body is compiled once per backend.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.conn {
            $crate::storage::transaction::Conn::Sqlite(open) => {
                let $conn: &mut sqlx::SqliteConnection = &mut **open;
                $body
            }
            $crate::storage::transaction::Conn::Postgres(open) => {
                let $conn: &mut sqlx::PgConnection = &mut **open;
                $body
            }
        }
    };
}

impl Db {
    /// Begins a write transaction for one use case.
    pub async fn transaction(&self) -> Result<Tx, StoreError> {
        let conn = match self {
            Db::Sqlite(pool) => Conn::Sqlite(pool.begin_write().await?),
            Db::Postgres(pool) => Conn::Postgres(pool.begin_write().await?),
        };
        Ok(Tx {
            conn,
            after_commit: Vec::new(),
        })
    }
}

impl Tx {
    /// The engine this transaction runs on.
    pub fn backend(&self) -> Backend {
        match self.conn {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `effect` after a successful commit, never after a rollback.
    pub fn after_commit(&mut self, effect: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(effect));
    }

    /// Commits, then runs the effects registered with [`Tx::after_commit`] in order.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.conn {
            Conn::Sqlite(open) => open.commit().await?,
            Conn::Postgres(open) => open.commit().await?,
        }
        for effect in self.after_commit {
            effect();
        }
        Ok(())
    }
}
