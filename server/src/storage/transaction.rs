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

use crate::ids::DocId;
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

    /// Begins a write transaction for a use case on one document, holding that
    /// document's lock (see [`Tx::lock_document`]) before it touches any row.
    pub async fn transaction_for(&self, doc: &DocId) -> Result<Tx, StoreError> {
        let mut tx = self.transaction().await?;
        tx.lock_document(doc).await?;
        Ok(tx)
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

    /// Takes the document's transaction-scoped lock on PostgreSQL (SQLite's `BEGIN
    /// IMMEDIATE` already serialises writers). The audit append needs it to order entries
    /// of concurrent transactions; taking it first, before any row lock, keeps every use
    /// case acquiring locks in one order: a use case that took a row lock (the invitee's
    /// first-activity mark) and then waited for this lock deadlocked with one that held
    /// this lock and waited for the row (seen as 40P01 on opening threads concurrently).
    /// Re-entrant within one transaction.
    pub async fn lock_document(&mut self, doc: &DocId) -> Result<(), StoreError> {
        if let Conn::Postgres(open) = &mut self.conn {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('forankra.audit:' || $1))")
                .bind(doc.as_str())
                .execute(&mut **open)
                .await?;
        }
        Ok(())
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
