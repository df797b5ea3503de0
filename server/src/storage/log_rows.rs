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

/// Scripts binding at most this many byte strings (updates and delete sets) are kept
/// prepared (the typing path); larger ones vary with every batch and would only push
/// useful statements out of the cache.
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
        script.append(&append, now);
        let heads = script.run(self).await?;
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
    let mut script = Script::default();
    script.sql.push_str("BEGIN IMMEDIATE;\n");
    for append in appends {
        script.append(append, now);
    }
    script.sql.push_str("COMMIT;");
    script.run(conn).await
}

/// A value bound to a script's placeholder.
#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// The SQL of appends on SQLite and its values, in the order of its `?` placeholders.
///
/// Placeholders are anonymous: sqlx binds a script's values statement by statement,
/// each anonymous placeholder taking the next value, whereas a numbered one that a
/// statement skips (`?5` with no `?4` before it in that statement) makes sqlx stop
/// binding that statement, leaving the rest `NULL`.
#[derive(Default)]
struct Script<'a> {
    sql: String,
    values: Vec<Value<'a>>,
}

impl<'a> Script<'a> {
    /// One append: the head moved, the rows numbered from it, the new head read back
    /// (`NULL` when the document is gone, and then nothing was written).
    fn append(&mut self, append: &Append<'a>, now: i64) {
        let doc = append.doc.as_str();
        let count = append.updates.len() as i64;
        self.sql.push_str(
            "UPDATE documents SET head_seq = head_seq + ?, updated_at = ? WHERE id = ?;\n",
        );
        self.values
            .extend([Value::Int(count), Value::Int(now), Value::Text(doc)]);
        let rows: Vec<(usize, [Value<'a>; 1])> = append
            .updates
            .iter()
            .enumerate()
            .map(|(i, u)| (i, [Value::Blob(u.as_ref())]))
            .collect();
        self.inserts(
            "document_updates (doc_id, seq, data, created_at)",
            "v.column2, ?",
            (doc, count, now),
            &rows,
        );
        let rows: Vec<(usize, [Value<'a>; 3])> = deletions(append.authored)
            .map(|(i, author, set)| {
                let values = [
                    Value::Text(author.user.as_str()),
                    Value::Text(author.org.as_str()),
                    Value::Blob(set),
                ];
                (i, values)
            })
            .collect();
        self.inserts(
            "document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set)",
            "v.column2, v.column3, ?, v.column4",
            (doc, count, now),
            &rows,
        );
        self.sql
            .push_str("SELECT (SELECT head_seq FROM documents WHERE id = ?);\n");
        self.values.push(Value::Text(doc));
    }

    /// Multi-row inserts of `rows` (an update's index from 0 and its values), numbered
    /// after the head the append's `UPDATE` moved: update `i` of `n` is `head - n + 1 + i`.
    /// `columns` takes the time as its one placeholder.
    fn inserts<const N: usize>(
        &mut self,
        into: &str,
        columns: &str,
        (doc, count, now): (&'a str, i64, i64),
        rows: &[(usize, [Value<'a>; N])],
    ) {
        let placeholders = vec!["?"; N].join(", ");
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let tuples: Vec<String> = chunk
                .iter()
                .map(|(i, _)| format!("({}, {placeholders})", i + 1))
                .collect();
            let _ = writeln!(
                self.sql,
                "INSERT INTO {into} SELECT d.id, d.head_seq - ? + v.column1, {columns} \
                 FROM documents AS d, (VALUES {}) AS v WHERE d.id = ?;",
                tuples.join(", ")
            );
            self.values.extend([Value::Int(count), Value::Int(now)]);
            self.values
                .extend(chunk.iter().flat_map(|(_, values)| *values));
            self.values.push(Value::Text(doc));
        }
    }

    /// Binds the values in order and runs the script; one head per append.
    async fn run(self, conn: &mut SqliteConnection) -> Result<Vec<Option<i64>>, sqlx::Error> {
        let blobs = self
            .values
            .iter()
            .filter(|v| matches!(v, Value::Blob(_)))
            .count();
        // The text is built from counts and anonymous placeholders only; every value is
        // bound.
        let mut query = sqlx::query_as::<_, (Option<i64>,)>(sqlx::AssertSqlSafe(self.sql))
            .persistent(blobs <= PREPARED_UP_TO);
        for value in self.values {
            query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
                Value::Blob(v) => query.bind(v),
            };
        }
        // `fetch_all`, never `fetch_optional`: sqlx stops a script at its first row when
        // asked for one, and every append's head is a row.
        let heads = query.fetch_all(conn).await?;
        Ok(heads.into_iter().map(|(head,)| head).collect())
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;
    use crate::ids::{OrgId, UserId};

    fn by(deletes: Option<&[u8]>) -> Authored {
        Authored {
            user: UserId::parse("eva").expect("an id"),
            org: OrgId::parse("utbildning").expect("an id"),
            binds: Vec::new(),
            deletes: deletes.map(<[u8]>::to_vec),
        }
    }

    /// A database with the real schema and two documents, `a` at head 5, `b` at 0.
    async fn database() -> (tempfile::TempDir, crate::storage::Db, SqliteConnection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.db");
        let db = crate::storage::Db::connect(&path.display().to_string())
            .await
            .expect("database");
        let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("connection");
        sqlx::raw_sql(
            "INSERT INTO organisations (id, name, created_at) VALUES ('sof', 'Stadsledningskontoret', 0);
             INSERT INTO documents (id, title, owner_org, created_by, created_at, updated_at, head_seq)
             VALUES ('a', 'A', 'sof', 'anna', 0, 0, 5), ('b', 'B', 'sof', 'anna', 0, 0, 0);",
        )
        .execute(&mut conn)
        .await
        .expect("documents");
        (dir, db, conn)
    }

    #[tokio::test]
    async fn one_script_appends_to_several_documents_each_from_its_own_head() {
        let (_dir, _db, mut conn) = database().await;
        let (a, b, gone) = (
            DocId::parse("a").expect("id"),
            DocId::parse("b").expect("id"),
            DocId::parse("gone").expect("id"),
        );
        let a_updates = [
            Bytes::from_static(b"a1"),
            Bytes::from_static(b"a2"),
            Bytes::from_static(b"a3"),
        ];
        let a_authors = [by(None), by(Some(b"da2")), by(None)];
        let gone_updates = [Bytes::from_static(b"g1")];
        let gone_authors = [by(Some(b"dg1"))];
        let b_updates = [Bytes::from_static(b"b1"), Bytes::from_static(b"b2")];
        let b_authors = [by(Some(b"db1")), by(Some(b"db2"))];
        let appends = [
            Append {
                doc: &a,
                updates: &a_updates,
                authored: &a_authors,
            },
            Append {
                doc: &gone,
                updates: &gone_updates,
                authored: &gone_authors,
            },
            Append {
                doc: &b,
                updates: &b_updates,
                authored: &b_authors,
            },
        ];
        let heads = append_all(&mut conn, &appends, 42).await.expect("appended");
        assert_eq!(heads, [Some(8), None, Some(2)]);

        let rows: Vec<(String, i64, Vec<u8>)> =
            sqlx::query_as("SELECT doc_id, seq, data FROM document_updates ORDER BY doc_id, seq")
                .fetch_all(&mut conn)
                .await
                .expect("rows");
        let row = |doc: &str, seq, data: &[u8]| (doc.to_owned(), seq, data.to_vec());
        assert_eq!(
            rows,
            [
                row("a", 6, b"a1"),
                row("a", 7, b"a2"),
                row("a", 8, b"a3"),
                row("b", 1, b"b1"),
                row("b", 2, b"b2")
            ]
        );
        let deletions: Vec<(String, i64, String, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT doc_id, seq, user_id, org_id, deleted_at, delete_set FROM document_deletions ORDER BY doc_id, seq",
        )
        .fetch_all(&mut conn)
        .await
        .expect("deletions");
        let deletion = |doc: &str, seq, set: &[u8]| {
            (
                doc.to_owned(),
                seq,
                "eva".to_owned(),
                "utbildning".to_owned(),
                42,
                set.to_vec(),
            )
        };
        assert_eq!(
            deletions,
            [
                deletion("a", 7, b"da2"),
                deletion("b", 1, b"db1"),
                deletion("b", 2, b"db2")
            ]
        );
        // The script's transaction is over: a new one can begin.
        sqlx::raw_sql("BEGIN; ROLLBACK;")
            .execute(&mut conn)
            .await
            .expect("no transaction left open");
    }

    #[tokio::test]
    async fn a_failing_script_writes_nothing_of_its_batch() {
        let (dir, _db, mut conn) = database().await;
        let a = DocId::parse("a").expect("id");
        let updates = [Bytes::from_static(b"a1")];
        let authored = [by(None)];
        // Sequence number 6 is taken, so the first append's insert fails.
        sqlx::query("INSERT INTO document_updates (doc_id, seq, data, created_at) VALUES ('a', 6, x'00', 0)")
            .execute(&mut conn)
            .await
            .expect("planted");
        let append = || Append {
            doc: &a,
            updates: &updates,
            authored: &authored,
        };
        let error = append_all(&mut conn, &[append(), append()], 42).await;
        assert!(error.is_err(), "{error:?}");
        conn.close().await.expect("closed, rolling back");

        let mut conn =
            SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("log.db").display()))
                .await
                .expect("connection");
        let head: (i64,) = sqlx::query_as("SELECT head_seq FROM documents WHERE id = 'a'")
            .fetch_one(&mut conn)
            .await
            .expect("head");
        assert_eq!(head, (5,));
    }
}
