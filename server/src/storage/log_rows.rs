//! How a group commit appends to the update log, in each dialect's fastest way.
//!
//! This is the one place the two backends run different SQL for the same write
//! (`storage` otherwise keeps one text for both). An append moves the document's head
//! and writes its update rows and its deletion rows. A batch holds up to 1,024 updates,
//! and PostgreSQL spent most of the B4 push planning and binding multi-row `VALUES`
//! statements of 1,024 parameters: it takes each column as one array parameter
//! (`UNNEST`), so a batch is one statement of a few parameters whatever its size, and
//! the statement is prepared once.
//!
//! SQLite has no arrays, but it runs in-process behind one worker thread per
//! connection, and every statement sent is a round trip to that thread: two thread
//! wake-ups, each of which waits for a core when the machine is busy. An append is
//! therefore one script of several statements (`UPDATE`, multi-row `INSERT`s, the
//! closing `SELECT` of the head), sent and answered once. The rows take their sequence
//! numbers from the head the script's own `UPDATE` just moved.

use std::fmt::Write;

use bytes::Bytes;
use sqlx::{PgConnection, SqliteConnection};

use crate::ids::DocId;
use crate::storage::authorship::Authored;

/// Rows per multi-row INSERT statement of the SQLite script.
const ROWS_PER_INSERT: usize = 256;

/// Scripts of at most this many updates are kept prepared (the typing path); larger
/// ones vary with every batch and would only push useful statements out of the cache.
const PREPARED_UP_TO: usize = 4;

/// Appends a batch to one document's log.
pub(super) trait LogRows {
    /// Moves `doc`'s head past `updates` and stores them under the sequence numbers that
    /// follow the old head, with one deletion row for each update that deletes
    /// (`authored[i]` wrote `updates[i]`; empty when nobody did). Returns the new head,
    /// or `None`, having written nothing, when the document is gone.
    async fn append(
        &mut self,
        doc: &DocId,
        updates: &[Bytes],
        authored: &[Authored],
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error>;
}

/// The deleting updates of a batch: their index in it (from 0), author and delete set.
fn deletions(authored: &[Authored]) -> impl Iterator<Item = (usize, &Authored, &[u8])> {
    authored
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.deletes.as_deref().map(|d| (i, a, d)))
}

impl LogRows for PgConnection {
    async fn append(
        &mut self,
        doc: &DocId,
        updates: &[Bytes],
        authored: &[Authored],
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let head: Option<(i64,)> = sqlx::query_as(
            "UPDATE documents SET head_seq = head_seq + $2, updated_at = $3 WHERE id = $1 RETURNING head_seq",
        )
        .bind(doc.as_str())
        .bind(updates.len() as i64)
        .bind(now)
        .fetch_optional(&mut *self)
        .await?;
        let Some((head,)) = head else {
            return Ok(None);
        };
        let first = head - updates.len() as i64 + 1;
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
        .execute(&mut *self)
        .await?;
        let deleting: Vec<_> = deletions(authored).collect();
        if !deleting.is_empty() {
            let seqs: Vec<i64> = deleting.iter().map(|(i, ..)| first + *i as i64).collect();
            let users: Vec<&str> = deleting.iter().map(|(_, a, _)| a.user.as_str()).collect();
            let orgs: Vec<&str> = deleting.iter().map(|(_, a, _)| a.org.as_str()).collect();
            let sets: Vec<&[u8]> = deleting.iter().map(|(.., d)| *d).collect();
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
            .execute(&mut *self)
            .await?;
        }
        Ok(Some(head))
    }
}

impl LogRows for SqliteConnection {
    async fn append(
        &mut self,
        doc: &DocId,
        updates: &[Bytes],
        authored: &[Authored],
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let append = Append {
            doc,
            updates,
            authored,
        };
        let mut script = Script::default();
        script.append(&append);
        let heads = script.run(self, std::slice::from_ref(&append), now).await?;
        Ok(heads.into_iter().next().flatten())
    }
}

/// One document's share of a group commit.
pub(super) struct Append<'a> {
    pub doc: &'a DocId,
    pub updates: &'a [Bytes],
    /// `authored[i]` wrote `updates[i]`; empty when nobody did.
    pub authored: &'a [Authored],
}

/// Variables one SQLite statement may number (`SQLITE_MAX_VARIABLE_NUMBER`).
const MAX_VARIABLE_NUMBER: usize = 32_766;

/// Whether [`append_all`] can write these appends in one script: it numbers every
/// bound value of the batch, and SQLite numbers at most [`MAX_VARIABLE_NUMBER`].
pub(super) fn fits_one_script<'a>(appends: impl IntoIterator<Item = &'a Append<'a>>) -> bool {
    let values: usize = appends
        .into_iter()
        .map(|a| 2 + a.updates.len() + 3 * deletions(a.authored).count())
        .sum();
    // `?1`, the time, comes first.
    values < MAX_VARIABLE_NUMBER
}

/// Writes a whole group commit of appends on SQLite in one round trip to the
/// connection's thread: `BEGIN IMMEDIATE`, each append, `COMMIT`, as one script.
/// sqlx's own transaction would add two more round trips, each a rendezvous in which
/// the connection's thread waits for the async side to take its answer. Returns each
/// append's new head in order (`None`: the document is gone and nothing of it was
/// written).
///
/// On an error the transaction may still be open, so the caller must not return the
/// connection to the pool but close it, which rolls the transaction back. For the
/// same reason the future must run to its end: the update log's writer task is never
/// cancelled.
pub(super) async fn append_all(
    conn: &mut SqliteConnection,
    appends: &[Append<'_>],
    now: i64,
) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let mut script = Script {
        sql: String::from("BEGIN IMMEDIATE;\n"),
        ..Script::default()
    };
    for append in appends {
        script.append(append);
    }
    script.sql.push_str("COMMIT;");
    script.run(conn, appends, now).await
}

/// The SQL of appends on SQLite. `?1` is the time; each append numbers its values
/// after the previous one's: the document, the number of its updates, each update's
/// bytes, then user, organisation and delete set of each deleting update. Each append
/// ends in a `SELECT` of its new head (`NULL` when the document is gone).
struct Script {
    sql: String,
    /// The number of the next bound value.
    next: usize,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            sql: String::new(),
            next: 2,
        }
    }
}

impl Script {
    fn value(&mut self) -> usize {
        self.next += 1;
        self.next - 1
    }

    fn append(&mut self, append: &Append<'_>) {
        let doc = self.value();
        let count = self.value();
        let _ = writeln!(
            self.sql,
            "UPDATE documents SET head_seq = head_seq + ?{count}, updated_at = ?1 WHERE id = ?{doc};"
        );
        let rows: Vec<String> = (0..append.updates.len())
            .map(|i| format!("({}, ?{})", i + 1, self.value()))
            .collect();
        self.inserts(
            (doc, count),
            "document_updates (doc_id, seq, data, created_at)",
            "v.column2, ?1",
            &rows,
        );
        let rows: Vec<String> = deletions(append.authored)
            .map(|(i, ..)| {
                let user = self.value();
                format!("({}, ?{user}, ?{}, ?{})", i + 1, self.value(), self.value())
            })
            .collect();
        self.inserts(
            (doc, count),
            "document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set)",
            "v.column2, v.column3, ?1, v.column4",
            &rows,
        );
        let _ = writeln!(
            self.sql,
            "SELECT (SELECT head_seq FROM documents WHERE id = ?{doc});"
        );
    }

    /// Multi-row inserts of `rows` (each `(index from 1, values…)`), numbered after the
    /// head the append's `UPDATE` moved: update `i` of `n` is `head - n + i`.
    fn inserts(
        &mut self,
        (doc, count): (usize, usize),
        into: &str,
        columns: &str,
        rows: &[String],
    ) {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let _ = writeln!(
                self.sql,
                "INSERT INTO {into} SELECT ?{doc}, d.head_seq - ?{count} + v.column1, {columns} \
                 FROM documents AS d, (VALUES {}) AS v WHERE d.id = ?{doc};",
                chunk.join(", ")
            );
        }
    }

    /// Binds the values in the order [`Script::append`] numbered them, and runs.
    async fn run(
        self,
        conn: &mut SqliteConnection,
        appends: &[Append<'_>],
        now: i64,
    ) -> Result<Vec<Option<i64>>, sqlx::Error> {
        let small = appends.iter().map(|a| a.updates.len()).sum::<usize>() <= PREPARED_UP_TO;
        // The text is built from counts and numbered placeholders only; every value is
        // bound.
        let mut query = sqlx::query_as::<_, (Option<i64>,)>(sqlx::AssertSqlSafe(self.sql))
            .persistent(small)
            .bind(now);
        for append in appends {
            query = query
                .bind(append.doc.as_str())
                .bind(append.updates.len() as i64);
            for update in append.updates {
                query = query.bind(update.as_ref());
            }
            for (_, author, set) in deletions(append.authored) {
                query = query
                    .bind(author.user.as_str())
                    .bind(author.org.as_str())
                    .bind(set);
            }
        }
        // `fetch_all`, never `fetch_optional`: sqlx stops a script at its first row when
        // asked for one, and every append's head is a row.
        let heads = query.fetch_all(conn).await?;
        Ok(heads.into_iter().map(|(head,)| head).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrgId, UserId};

    fn authored(deletes: bool) -> Authored {
        Authored {
            user: UserId::parse("anna").expect("an id"),
            org: OrgId::parse("sof").expect("an id"),
            binds: Vec::new(),
            deletes: deletes.then(|| vec![0]),
        }
    }

    #[test]
    fn the_sqlite_script_numbers_every_value_once_in_binding_order() {
        let doc = DocId::parse("d").expect("an id");
        let updates = [Bytes::new(), Bytes::new()];
        let authored = [authored(false), authored(true)];
        let mut script = Script::default();
        script.append(&Append {
            doc: &doc,
            updates: &updates,
            authored: &authored,
        });
        assert_eq!(
            script.sql,
            "UPDATE documents SET head_seq = head_seq + ?3, updated_at = ?1 WHERE id = ?2;\n\
             INSERT INTO document_updates (doc_id, seq, data, created_at) SELECT ?2, d.head_seq - ?3 + v.column1, v.column2, ?1 \
             FROM documents AS d, (VALUES (1, ?4), (2, ?5)) AS v WHERE d.id = ?2;\n\
             INSERT INTO document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set) SELECT ?2, d.head_seq - ?3 + v.column1, v.column2, v.column3, ?1, v.column4 \
             FROM documents AS d, (VALUES (2, ?6, ?7, ?8)) AS v WHERE d.id = ?2;\n\
             SELECT (SELECT head_seq FROM documents WHERE id = ?2);\n"
        );
        assert_eq!(script.next, 9);
    }

    #[test]
    fn a_batch_fits_one_script_until_it_numbers_more_values_than_sqlite_allows() {
        let doc = DocId::parse("d").expect("an id");
        let updates = vec![Bytes::new(); 1024];
        let authored = vec![authored(true); 1024];
        let append = || Append {
            doc: &doc,
            updates: &updates,
            authored: &authored,
        };
        // Each append numbers 2 + 1,024 + 3 × 1,024 = 4,098 values, after the time.
        let seven: Vec<Append<'_>> = (0..7).map(|_| append()).collect();
        let eight: Vec<Append<'_>> = (0..8).map(|_| append()).collect();
        assert!(fits_one_script(&seven));
        assert!(!fits_one_script(&eight));
    }
}
