//! The database: SQLite by default, PostgreSQL for several nodes.
//!
//! Both backends run the same SQL text wherever the dialects agree (`$N` placeholders,
//! `ON CONFLICT`, `RETURNING`), dispatched by [`on_pool!`] to the native sqlx driver of
//! each, so there is one implementation to test rather than two that drift apart. Times
//! are stored as epoch milliseconds in `BIGINT` and booleans as integers, which both
//! databases read the same way. Where the dialects do differ (how a write transaction
//! begins), [`Db::begin_write`] hides it; where the fastest way to write differs (the
//! update log's bulk inserts: arrays on PostgreSQL), `log_rows` does.

pub mod authorship;
pub mod checkpoint;
pub mod journal;
mod log_rows;
pub mod queue;
pub mod settings;
pub mod snapshot;
pub mod transaction;
pub mod vacuum;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteAutoVacuum, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

pub use checkpoint::CHECKPOINT_INTERVAL;
use checkpoint::{Checkpointer, RESTART_ABOVE_PAGES, WAL_SIZE_LIMIT_BYTES};
pub use transaction::Tx;

/// How long a SQLite connection waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Failures of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use a file path, sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error("the writer task has stopped")]
    WriterGone,
    #[error("no such document")]
    NoSuchDocument,
    #[error("a stored row is corrupt: {0}")]
    Corrupt(String),
    /// A document's audit trail lost or forged its head: nothing more is appended to it
    /// (`audit::head`).
    #[error("{0}")]
    AuditTrailBroken(String),
    /// An update of an append writes under a Yjs client id that is bound to another
    /// user in this document (`storage::authorship`): nothing of the append is stored.
    /// `index` is the update's place in the append.
    #[error("client id {client} of update {index} belongs to another user")]
    ClientIdTaken {
        index: usize,
        client: u64,
        owner: crate::ids::UserId,
        owner_org: crate::ids::OrgId,
    },
}

/// Which database engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool on either backend.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the native pool of whichever backend `$db` is.
///
/// The body is compiled once per backend, so the same query text and row types serve
/// both; `#[derive(FromRow)]` rows are generic over the database and fit either arm.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite($pool) => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Opens a transaction that will write, taking SQLite's write lock at once.
///
/// A SQLite deferred transaction that reads before it writes fails with SQLITE_BUSY
/// without waiting for the busy timeout; `BEGIN IMMEDIATE` waits instead.
pub trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

impl Db {
    /// Connects by URL scheme and brings the schema up to date.
    ///
    /// `postgres://` and `postgresql://` select PostgreSQL; `sqlite://PATH`, `sqlite:PATH`
    /// or a bare path select an embedded SQLite file, created if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            Db::Postgres(pool)
        } else {
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // sqlx pings a connection each time it leaves the pool, to find ones the
                // network dropped. An embedded file has no network, and on SQLite the ping
                // is a round trip to the connection's worker thread, which doubled the
                // thread wake-ups of a short query (the update log's commit among them).
                .test_before_acquire(false)
                .connect_with(sqlite_options(url)?)
                .await?;
            if vacuum::ensure_incremental(&pool).await? {
                tracing::info!("converted the SQLite file to incremental auto-vacuum (once)");
            }
            Db::Sqlite(pool)
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the migrations for this backend (`migrations/sqlite` or `migrations/postgres`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The engine behind this pool.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// On SQLite, copies the write-ahead log into the database every
    /// [`CHECKPOINT_INTERVAL`] and keeps it from growing without bound under a steady
    /// load (see [`checkpoint`]). Ends with `shutdown`.
    pub fn spawn_checkpoints(&self, shutdown: tokio_util::sync::CancellationToken) {
        let Db::Sqlite(pool) = self else { return };
        let options = pool.connect_options();
        tokio::spawn(async move {
            let mut checkpointer = match Checkpointer::connect(&options, RESTART_ABOVE_PAGES).await
            {
                Ok(checkpointer) => checkpointer,
                Err(error) => {
                    tracing::error!(%error, "opening the WAL checkpoint connection failed; the WAL will not be checkpointed");
                    return;
                }
            };
            let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = shutdown.cancelled() => break,
                }
                match checkpointer.pass().await {
                    Ok(pass) if pass.restart_tried && !pass.restarted => {
                        tracing::debug!(
                            frames = pass.log_frames,
                            "WAL restart gave way to readers; next tick"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "WAL checkpoint failed"),
                }
                match checkpointer.vacuum().await {
                    Ok(pass) if pass.free_after < pass.free_before => {
                        tracing::debug!(
                            freed = pass.free_before - pass.free_after,
                            "gave free pages back to the disk"
                        );
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "incremental vacuum failed"),
                }
            }
            if let Err(error) = checkpointer.close().await {
                tracing::warn!(%error, "closing the WAL checkpoint connection failed");
            }
        });
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => { sqlx::query("SELECT 1").execute(pool).await?; });
        Ok(())
    }

    /// Closes every connection (at shutdown, after the last write). A SQLite file first
    /// gives back its free pages past the kept ones (`vacuum::release`).
    pub async fn close(&self) {
        if let Db::Sqlite(pool) = self
            && let Err(error) = vacuum::release(pool).await
        {
            tracing::warn!(%error, "giving free pages back at shutdown failed");
        }
        on_pool!(self, pool => pool.close().await)
    }
}

fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    let options = if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url)?
    } else if url.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_owned()));
    } else {
        SqliteConnectOptions::new().filename(url)
    };
    Ok(options
        .create_if_missing(true)
        // Before `journal_mode`, as sqlx orders it: on a new file this takes effect before
        // the first table exists (see `vacuum`).
        .auto_vacuum(SqliteAutoVacuum::Incremental)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        // Checkpoints run in the background (`spawn_checkpoints`), not inside whichever
        // commit happens to cross SQLite's page threshold: that commit is on the path
        // every update takes before it is relayed.
        .pragma("wal_autocheckpoint", "0")
        // When the log starts over, its file is cut back to this (by the committing
        // connection, so every connection carries the setting).
        .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string()))
}
