//! Keeping SQLite's write-ahead log small under a constant load.
//!
//! Commits never checkpoint (`wal_autocheckpoint` is 0): that work would land on
//! whichever commit crossed the threshold, on the path every update takes before it is
//! relayed. A background task checkpoints instead, every [`CHECKPOINT_INTERVAL`].
//!
//! A passive checkpoint alone is not enough. It copies the log's frames into the
//! database without waiting for anyone, but SQLite only starts the log over from its
//! beginning when a writer finds *every* frame copied and no reader still reading the
//! log. Under a steady stream of commits that moment never comes: frames are appended
//! while the checkpoint runs, and pooled readers overlap it. The log then grows for as
//! long as the load lasts (631 MiB in a 20-minute soak, for 238,000 small updates), and
//! every reader searches a longer WAL index. SQLite calls this checkpoint starvation.
//!
//! So when the log holds more than [`RESTART_ABOVE_PAGES`] after the passive pass, the
//! task runs a RESTART checkpoint: it takes the writer lock, copies the few frames left,
//! waits for readers to leave the log, and so makes the next commit start the log over.
//! It runs on a connection of its own whose busy timeout is [`RESTART_BUSY_TIMEOUT`], so
//! writers queue behind it for at most that long; if readers do not leave in time it
//! gives up (SQLite reports busy, not an error) and tries again at the next tick.
//! `journal_size_limit` ([`WAL_SIZE_LIMIT_BYTES`], set on every connection) then cuts
//! the file back when the log starts over, so the disk space comes back too.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, Row};

/// How often the write-ahead log is checkpointed into the database file.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Pages in the log above which a restart is forced: 16 MiB with SQLite's 4 KiB pages,
/// several seconds of the heaviest load measured (the soak writes ~2 MiB a second).
pub const RESTART_ABOVE_PAGES: i64 = 4_096;

/// `journal_size_limit`: the size the log file is cut back to when it starts over.
pub const WAL_SIZE_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// Longest a restart waits for the writer lock and for readers, and so the longest a
/// commit can wait behind it.
pub const RESTART_BUSY_TIMEOUT: Duration = Duration::from_millis(50);

/// What one checkpoint pass did, from `PRAGMA wal_checkpoint`'s row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPass {
    /// Frames in the log when the pass ended (-1 if the database is not in WAL mode).
    pub log_frames: i64,
    /// Frames of those copied into the database file.
    pub checkpointed_frames: i64,
    /// A restart was attempted because the log was over [`RESTART_ABOVE_PAGES`].
    pub restart_tried: bool,
    /// The restart finished: the next commit starts the log over.
    pub restarted: bool,
}

/// Runs the passes on a connection of its own, with the short busy timeout.
#[derive(Debug)]
pub struct Checkpointer {
    conn: SqliteConnection,
    restart_above_pages: i64,
}

impl Checkpointer {
    /// Opens the checkpoint connection with the pool's options (file, WAL mode,
    /// `journal_size_limit`) but [`RESTART_BUSY_TIMEOUT`] as its busy timeout.
    pub async fn connect(
        options: &SqliteConnectOptions,
        restart_above_pages: i64,
    ) -> Result<Self, sqlx::Error> {
        let conn = options
            .clone()
            .busy_timeout(RESTART_BUSY_TIMEOUT)
            .connect()
            .await?;
        Ok(Self {
            conn,
            restart_above_pages,
        })
    }

    /// One pass: passive, then a restart if the log is still long.
    pub async fn pass(&mut self) -> Result<CheckpointPass, sqlx::Error> {
        let (_, log_frames, checkpointed_frames) =
            self.checkpoint("PRAGMA wal_checkpoint(PASSIVE)").await?;
        let mut pass = CheckpointPass {
            log_frames,
            checkpointed_frames,
            restart_tried: false,
            restarted: false,
        };
        if log_frames > self.restart_above_pages {
            let (busy, log_frames, checkpointed_frames) =
                self.checkpoint("PRAGMA wal_checkpoint(RESTART)").await?;
            pass = CheckpointPass {
                log_frames,
                checkpointed_frames,
                restart_tried: true,
                restarted: !busy,
            };
        }
        Ok(pass)
    }

    /// Gives free pages back to the disk, a bounded number at a time (`vacuum`). On the
    /// same connection, so it waits at most the same short busy timeout for writers.
    pub async fn vacuum(&mut self) -> Result<super::vacuum::VacuumPass, sqlx::Error> {
        super::vacuum::pass(&mut self.conn).await
    }

    /// Closes the connection (at shutdown).
    pub async fn close(self) -> Result<(), sqlx::Error> {
        self.conn.close().await
    }

    /// Runs a `PRAGMA wal_checkpoint(…)`: (busy, frames in the log, frames checkpointed).
    /// Busy is a result, not an error: the checkpoint gave up waiting.
    async fn checkpoint(&mut self, pragma: &'static str) -> Result<(bool, i64, i64), sqlx::Error> {
        let row = sqlx::query(pragma).fetch_one(&mut self.conn).await?;
        Ok((
            row.try_get::<i64, _>(0)? != 0,
            row.try_get(1)?,
            row.try_get(2)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;
    use tokio::sync::watch;

    use super::*;

    /// A small `journal_size_limit` and restart threshold, so the test stays quick.
    const TEST_LIMIT_BYTES: u64 = 256 * 1024;
    const TEST_RESTART_ABOVE_PAGES: i64 = 64;
    /// Rows (one 4 KiB page each, about) written between two checkpoint passes.
    const ROWS_PER_PASS: u64 = 100;
    const PASSES: u64 = 30;

    fn wal_bytes(db: &std::path::Path) -> u64 {
        std::fs::metadata(format!("{}-wal", db.display())).map_or(0, |m| m.len())
    }

    /// A writer committing row after row and a reader reading all the while, as the
    /// pooled connections of a busy server do: passive checkpoints alone let the log
    /// grow with everything written; with the restart it stays within a few passes'
    /// worth, and is cut back to the limit once the load stops.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_steady_load_cannot_starve_the_checkpoint() -> Result<(), sqlx::Error> {
        let dir = tempfile::tempdir().map_err(sqlx::Error::Io)?;
        let path = dir.path().join("wal.db");
        let options = crate::storage::sqlite_options(&path.display().to_string())
            .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?
            .pragma("journal_size_limit", TEST_LIMIT_BYTES.to_string());
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        sqlx::query("CREATE TABLE load (body BLOB NOT NULL)")
            .execute(&pool)
            .await?;
        let mut checkpointer = Checkpointer::connect(&options, TEST_RESTART_ABOVE_PAGES).await?;

        let (stop, stopped) = watch::channel(false);
        let (written_tx, mut written) = watch::channel(0u64);
        // Passes done so far: the writer runs at most one pass ahead of them, so a loaded
        // machine that starves the test's task cannot turn "a steady load" into a burst.
        let (passed_tx, passed) = watch::channel(0u64);
        let writer = tokio::spawn({
            let (pool, stopped, mut passed) = (pool.clone(), stopped.clone(), passed.clone());
            async move {
                let mut rows = 0;
                while !*stopped.borrow() {
                    let ahead = rows / ROWS_PER_PASS;
                    if passed.wait_for(|&p| p + 1 >= ahead).await.is_err() {
                        break;
                    }
                    sqlx::query("INSERT INTO load (body) VALUES (randomblob(3000))")
                        .execute(&pool)
                        .await?;
                    rows += 1;
                    written_tx.send_replace(rows);
                }
                Ok::<_, sqlx::Error>(())
            }
        });
        let reader = tokio::spawn({
            let pool = pool.clone();
            async move {
                while !*stopped.borrow() {
                    let mut txn = pool.begin().await?;
                    sqlx::query("SELECT max(rowid) FROM load")
                        .fetch_one(&mut *txn)
                        .await?;
                    txn.commit().await?;
                }
                Ok::<_, sqlx::Error>(())
            }
        });

        let mut largest = 0;
        let mut restarts = 0;
        for pass in 1..=PASSES {
            let want = pass * ROWS_PER_PASS;
            written
                .wait_for(|&rows| rows >= want)
                .await
                .map_err(|_| sqlx::Error::WorkerCrashed)?;
            restarts += u32::from(checkpointer.pass().await?.restarted);
            largest = largest.max(wal_bytes(&path));
            passed_tx.send_replace(pass);
        }
        stop.send_replace(true);
        drop(passed_tx);
        writer.await.map_err(|_| sqlx::Error::WorkerCrashed)??;
        reader.await.map_err(|_| sqlx::Error::WorkerCrashed)??;

        // Each commit writes whole pages, so a pass adds about 1.3 MB to the log here.
        // Without the restart the log reached 38 MB, four times the 9 MB payload; with
        // it, one to three passes' worth (a restart may give way to the reader now and
        // then), far below the payload.
        let payload_bytes = PASSES * ROWS_PER_PASS * 3000;
        assert!(
            largest < payload_bytes,
            "the log reached {largest} bytes for a payload of {payload_bytes}"
        );
        assert!(restarts > 0, "no restart finished in {PASSES} passes");
        // Quiet now: one pass and one commit start the log over and cut the file back.
        checkpointer.pass().await?;
        sqlx::query("INSERT INTO load (body) VALUES (x'00')")
            .execute(&pool)
            .await?;
        assert!(
            wal_bytes(&path) <= TEST_LIMIT_BYTES,
            "the log is {} bytes after the load",
            wal_bytes(&path)
        );
        Ok(())
    }
}
