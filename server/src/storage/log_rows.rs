//! How a group commit writes its rows of the update log, in each dialect's fastest way.
//!
//! This is the one place the two backends run different SQL for the same write
//! (`storage` otherwise keeps one text for both). A batch holds up to 1,024 updates,
//! and PostgreSQL spent most of the B4 push planning and binding multi-row `VALUES`
//! statements of 1,024 parameters: it now takes each column as one array parameter
//! (`UNNEST`), so a batch is one statement of four parameters whatever its size, and
//! the statement is prepared once. SQLite has no arrays; in-process, a bound value
//! costs it little, so it keeps multi-row `VALUES`, [`ROWS_PER_INSERT`] rows at a time.

use bytes::Bytes;
use sqlx::{PgConnection, QueryBuilder, SqliteConnection};

use crate::ids::DocId;
use crate::storage::authorship::Authored;

/// Rows per multi-row INSERT statement on SQLite (at most 6 binds each, well under its
/// bind limit).
const ROWS_PER_INSERT: usize = 256;

/// One deleting update's row: its sequence number, author and delete set.
pub(super) type Deletion<'a> = (i64, &'a Authored, &'a [u8]);

/// Writes a batch's rows into `document_updates` and `document_deletions`.
pub(super) trait LogRows {
    /// `updates[i]` is stored under sequence number `first + i`.
    async fn insert_updates(
        &mut self,
        doc: &DocId,
        first: i64,
        updates: &[Bytes],
        now: i64,
    ) -> Result<(), sqlx::Error>;

    /// Keeps who deleted what (for authorship), one row per deleting update.
    async fn insert_deletions(
        &mut self,
        doc: &DocId,
        deletions: &[Deletion<'_>],
        now: i64,
    ) -> Result<(), sqlx::Error>;
}

impl LogRows for PgConnection {
    async fn insert_updates(
        &mut self,
        doc: &DocId,
        first: i64,
        updates: &[Bytes],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        let data: Vec<&[u8]> = updates.iter().map(|u| u.as_ref()).collect();
        sqlx::query(
            "INSERT INTO document_updates (doc_id, seq, data, created_at) \
             SELECT $1, $2 + u.ord - 1, u.data, $3 \
             FROM UNNEST($4::bytea[]) WITH ORDINALITY AS u (data, ord)",
        )
        .bind(doc.as_str())
        .bind(first)
        .bind(now)
        .bind(data)
        .execute(self)
        .await
        .map(drop)
    }

    async fn insert_deletions(
        &mut self,
        doc: &DocId,
        deletions: &[Deletion<'_>],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if deletions.is_empty() {
            return Ok(());
        }
        let seqs: Vec<i64> = deletions.iter().map(|(seq, ..)| *seq).collect();
        let users: Vec<&str> = deletions.iter().map(|(_, a, _)| a.user.as_str()).collect();
        let orgs: Vec<&str> = deletions.iter().map(|(_, a, _)| a.org.as_str()).collect();
        let sets: Vec<&[u8]> = deletions.iter().map(|(.., d)| *d).collect();
        sqlx::query(
            "INSERT INTO document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set) \
             SELECT $1, d.seq, d.user_id, d.org_id, $2, d.delete_set \
             FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::bytea[]) \
             AS d (seq, user_id, org_id, delete_set)",
        )
        .bind(doc.as_str())
        .bind(now)
        .bind(seqs)
        .bind(users)
        .bind(orgs)
        .bind(sets)
        .execute(self)
        .await
        .map(drop)
    }
}

impl LogRows for SqliteConnection {
    async fn insert_updates(
        &mut self,
        doc: &DocId,
        first: i64,
        updates: &[Bytes],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        for (chunk_index, chunk) in updates.chunks(ROWS_PER_INSERT).enumerate() {
            let base = first + (chunk_index * ROWS_PER_INSERT) as i64;
            let mut insert =
                QueryBuilder::new("INSERT INTO document_updates (doc_id, seq, data, created_at) ");
            insert.push_values(chunk.iter().enumerate(), |mut row, (i, update)| {
                row.push_bind(doc.as_str())
                    .push_bind(base + i as i64)
                    .push_bind(update.as_ref())
                    .push_bind(now);
            });
            insert.build().execute(&mut *self).await?;
        }
        Ok(())
    }

    async fn insert_deletions(
        &mut self,
        doc: &DocId,
        deletions: &[Deletion<'_>],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        // One statement per chunk, not per update: a row at a time was a round trip to
        // the database for each, and the B4 trace's pushes carry tens of thousands.
        for chunk in deletions.chunks(ROWS_PER_INSERT) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set) ",
            );
            insert.push_values(chunk, |mut row, (seq, author, deletes)| {
                row.push_bind(doc.as_str())
                    .push_bind(*seq)
                    .push_bind(&author.user)
                    .push_bind(&author.org)
                    .push_bind(now)
                    .push_bind(*deletes);
            });
            insert.build().execute(&mut *self).await?;
        }
        Ok(())
    }
}
