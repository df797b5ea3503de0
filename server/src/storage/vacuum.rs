//! Giving the SQLite file's freed pages back to the disk.
//!
//! Compaction replaces a document's update log with one snapshot and deletes the log's
//! rows. SQLite keeps the pages those rows held on its free list, inside the file, for
//! later inserts: a benchmark document of 160 KB left a 23 MB file behind (issue 20).
//! A city's server compacts hundreds of documents a day, so the file would keep the
//! size of the busiest hour forever.
//!
//! The database runs with `auto_vacuum = INCREMENTAL`: SQLite then tracks which pages
//! can move, and `PRAGMA incremental_vacuum(N)` moves up to N free pages to the end of
//! the file and cuts them off. It is a write transaction, so it runs in the checkpoint
//! task (on that task's connection, whose busy timeout is 50 ms) a bounded number of
//! pages at a time, and only when the free list is longer than [`FREE_PAGES_KEPT`]: a
//! few megabytes of free pages are kept for the inserts that follow.
//!
//! `auto_vacuum` only takes effect when set before the first table is created, or by a
//! full `VACUUM`. A file made by an earlier version (no auto-vacuum) is converted once,
//! at start, by [`ensure_incremental`].

use sqlx::sqlite::SqliteConnection;
use sqlx::{Row, SqlitePool};

/// Free pages left in the file for the inserts that follow: 4 MiB with 4 KiB pages.
pub const FREE_PAGES_KEPT: i64 = 1_024;

/// Most pages one pass moves and cuts off, so the writers queued behind it wait little:
/// 4 MiB with 4 KiB pages.
pub const PAGES_PER_PASS: i64 = 1_024;

/// Most pages given back at shutdown (256 MiB), so a stop within a container's grace
/// period is not spent moving pages; the running server's passes do the rest.
pub const SHUTDOWN_PAGES: i64 = 65_536;

/// `PRAGMA auto_vacuum`'s value for incremental.
const INCREMENTAL: i64 = 2;

/// Makes sure the file is in incremental auto-vacuum mode, converting it with a full
/// `VACUUM` if an earlier version made it without. Returns whether it converted.
///
/// Runs at start, before any room writes: `VACUUM` rewrites the whole file and holds
/// the write lock while it does.
pub async fn ensure_incremental(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mode: i64 = sqlx::query("PRAGMA auto_vacuum")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if mode == INCREMENTAL {
        return Ok(false);
    }
    sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
        .execute(&mut *conn)
        .await?;
    sqlx::query("VACUUM").execute(&mut *conn).await?;
    Ok(true)
}

/// What a vacuum pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VacuumPass {
    /// Free pages in the file before the pass.
    pub free_before: i64,
    /// Free pages after it (the same if the pass did not run or gave way to a writer).
    pub free_after: i64,
}

/// One pass: if the free list is longer than [`FREE_PAGES_KEPT`], moves and cuts off up
/// to [`PAGES_PER_PASS`] pages. A busy database (a writer held the lock past the
/// connection's busy timeout) is not an error: the next pass tries again.
pub async fn pass(conn: &mut SqliteConnection) -> Result<VacuumPass, sqlx::Error> {
    let free_before = free_pages(conn).await?;
    if free_before <= FREE_PAGES_KEPT {
        return Ok(VacuumPass {
            free_before,
            free_after: free_before,
        });
    }
    let pages = (free_before - FREE_PAGES_KEPT).min(PAGES_PER_PASS);
    match incremental_vacuum(conn, pages).await {
        Ok(()) => {}
        Err(sqlx::Error::Database(error)) if is_busy(error.code().as_deref()) => {}
        Err(error) => return Err(error),
    }
    Ok(VacuumPass {
        free_before,
        free_after: free_pages(conn).await?,
    })
}

/// At shutdown, after the last write: gives back every free page past the kept ones in
/// one go (nobody waits on the writer any more) and truncates the log, so the file a
/// stopped server leaves is its data's size.
pub async fn release(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let free = free_pages(&mut conn).await?;
    if free > FREE_PAGES_KEPT {
        incremental_vacuum(&mut conn, (free - FREE_PAGES_KEPT).min(SHUTDOWN_PAGES)).await?;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Moves up to `pages` free pages to the end of the file and cuts them off.
async fn incremental_vacuum(conn: &mut SqliteConnection, pages: i64) -> Result<(), sqlx::Error> {
    // A PRAGMA takes no bound parameters; `pages` is a number computed here.
    let sql = sqlx::AssertSqlSafe(format!("PRAGMA incremental_vacuum({pages})"));
    sqlx::query(sql).execute(&mut *conn).await.map(drop)
}

async fn free_pages(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query("PRAGMA freelist_count")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)
}

/// SQLITE_BUSY and SQLITE_LOCKED, with or without their extended codes.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sqlx::{ConnectOptions, Connection};

    use super::*;

    fn file_len(path: &std::path::Path) -> u64 {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// Fills a table with about 20 MiB and deletes it, as compaction deletes a log.
    async fn fill_and_delete(pool: &SqlitePool) {
        sqlx::query("CREATE TABLE log (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .execute(pool)
            .await
            .expect("create");
        let body = vec![7u8; 3_000];
        for _ in 0..7_000 {
            sqlx::query("INSERT INTO log (body) VALUES (?)")
                .bind(&body)
                .execute(pool)
                .await
                .expect("insert");
        }
        sqlx::query("DELETE FROM log")
            .execute(pool)
            .await
            .expect("delete");
    }

    async fn checkpoint(pool: &SqlitePool) {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .expect("checkpoint");
    }

    /// A file written by an earlier version (no auto-vacuum) is converted at start, and
    /// then passes give the pages of a deleted log back until only the kept ones remain.
    #[tokio::test]
    async fn a_deleted_log_gives_its_pages_back_to_the_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .expect("url")
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .expect("pool");
        sqlx::query("CREATE TABLE kept (x)")
            .execute(&pool)
            .await
            .expect("table");
        assert!(
            ensure_incremental(&pool).await.expect("convert"),
            "converted"
        );
        assert!(
            !ensure_incremental(&pool).await.expect("again"),
            "only once"
        );

        fill_and_delete(&pool).await;
        checkpoint(&pool).await;
        let full = file_len(&path);
        assert!(full > 15 * 1024 * 1024, "the log filled the file: {full}");

        let mut conn = options.connect().await.expect("vacuum connection");
        let mut passes = 0;
        loop {
            let pass = pass(&mut conn).await.expect("pass");
            passes += 1;
            if pass.free_after <= FREE_PAGES_KEPT {
                break;
            }
            assert!(
                pass.free_after < pass.free_before,
                "each pass frees pages: {pass:?}"
            );
            assert!(passes < 20, "passes end");
        }
        conn.close().await.expect("close");
        checkpoint(&pool).await;
        let after = file_len(&path);
        assert!(
            after < 6 * 1024 * 1024,
            "the file shrank from {full} to {after} bytes (4 MiB of free pages are kept)"
        );
    }

    /// A stopping server leaves a file of its data's size, not of its busiest hour.
    #[tokio::test]
    async fn shutdown_gives_back_every_page_past_the_kept_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .expect("url")
            .create_if_missing(true)
            .auto_vacuum(sqlx::sqlite::SqliteAutoVacuum::Incremental)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .expect("pool");
        assert!(
            !ensure_incremental(&pool).await.expect("mode"),
            "new files start so"
        );
        fill_and_delete(&pool).await;
        checkpoint(&pool).await;
        let full = file_len(&path);
        release(&pool).await.expect("release");
        let after = file_len(&path);
        assert!(
            after < 6 * 1024 * 1024 && after < full / 3,
            "the file went from {full} to {after} bytes"
        );
    }

    #[test]
    fn busy_and_locked_are_told_apart_from_other_errors() {
        assert!(is_busy(Some("5")));
        assert!(is_busy(Some("517"))); // SQLITE_BUSY_SNAPSHOT
        assert!(is_busy(Some("6")));
        assert!(!is_busy(Some("11")));
        assert!(!is_busy(None));
    }
}
