//! The append-only update log of every document, with group commit and compaction.
//!
//! An update is relayed only after it is in the database, so the cost of a commit sits on
//! the latency path. A single writer task keeps that cheap: it takes every operation that
//! queued up while the previous commit ran and writes them all in one transaction, so
//! one fsync covers many updates from many rooms (group commit). No debounce: nothing
//! waits for a timer, and nothing is acknowledged before it is written (the y-websocket
//! LevelDB queue that lost work on SIGTERM is the counter-example).
//!
//! Compaction replaces a prefix of the log with a snapshot in the same transaction that
//! deletes that prefix, so a crash leaves either the old rows or the new snapshot, never
//! neither. Loading reads the log before the snapshot, which makes it safe against a
//! compaction running concurrently on another node: at worst an update is read twice,
//! and applying a Yjs update twice is a no-op.
//!
//! Who wrote each update rides along with it (`storage::authorship::Authored`): the
//! client ids it binds and its delete set are written in the same transaction, so an
//! update is never stored without its author, and an append that would write under
//! another user's client id is refused whole (`StoreError::ClientIdTaken`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use sqlx::{FromRow, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::ids::{DocId, OrgId, UserId};
use crate::metrics::Metrics;
use crate::on_pool;
use crate::storage::authorship::{self, Authored, Binding};
use crate::storage::log_rows::{self, Append, LogRows};
use crate::storage::snapshot::Snapshot;
use crate::storage::{BeginWrite, Db, StoreError, now_ms};

/// Most operations one group commit takes.
const MAX_OPS_PER_COMMIT: usize = 1024;
/// Operations that may wait for the writer before submitters are slowed down.
const QUEUE_CAPACITY: usize = if cfg!(test) { 1 } else { 4096 };

/// What the database holds for one document.
#[derive(Debug, Default)]
pub struct StoredDoc {
    /// The compacted state, if the document was ever compacted.
    pub snapshot: Option<Snapshot>,
    /// The updates appended after the snapshot, oldest first, with their sequence numbers.
    pub updates: Vec<(i64, Vec<u8>)>,
    /// Sequence number of the newest update.
    pub head_seq: i64,
    /// Who each client id that wrote into the document belongs to.
    pub bindings: Vec<Binding>,
}

/// How many bytes a document takes in the database (for compaction figures and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct StoredSize {
    pub snapshot_bytes: i64,
    pub log_bytes: i64,
    pub log_rows: i64,
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A PostgreSQL notification sent inside the transaction that appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub channel: &'static str,
    pub payload: String,
}

/// Builds the notification for an append to a document that reached a head sequence
/// number. The journal does not know what it says: the cluster supplies it.
pub type AppendNotice = Arc<dyn Fn(&DocId, i64) -> Notification + Send + Sync>;

enum Op {
    Append {
        doc: DocId,
        updates: Vec<Bytes>,
        /// Who wrote each update (`authored[i]` is `updates[i]`'s), written in the same
        /// transaction; empty for an append nobody authored (tests).
        authored: Vec<Authored>,
        reply: Reply<i64>,
    },
    Compact {
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
        reply: Reply<()>,
    },
}

/// What a room lacks: entries after its position, and the snapshot if the log was
/// compacted past it.
#[derive(Debug, Default)]
pub struct CatchUp {
    pub snapshot: Option<(i64, Snapshot)>,
    pub updates: Vec<(i64, Vec<u8>)>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Journal {
    db: Db,
    ops: mpsc::Sender<Op>,
}

impl Journal {
    /// Starts the writer task. It ends once every `Journal` clone is dropped and the queue
    /// is drained. Shutdown need not wait for it: every writer of the journal (the rooms)
    /// waits for its own last write before it finishes.
    ///
    /// With an `announce` (PostgreSQL, several nodes), every commit that appends also
    /// sends the notifications it builds, inside the same transaction, so the other
    /// nodes hear of exactly what was committed.
    pub fn start(db: Db, announce: Option<AppendNotice>, metrics: Arc<Metrics>) -> Self {
        let (ops, rx) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(run_writer(db.clone(), announce, metrics, rx));
        Self { db, ops }
    }

    /// Queues `updates` for the next group commit, with who wrote each (`authored`, one
    /// per update, or empty). The returned receiver resolves with the document's new head
    /// sequence number once they are durable, or with [`StoreError::ClientIdTaken`] if
    /// one of them writes under another user's client id (then none of them is stored).
    pub async fn submit_append(
        &self,
        doc: DocId,
        updates: Vec<Bytes>,
        authored: Vec<Authored>,
    ) -> Result<oneshot::Receiver<Result<i64, StoreError>>, StoreError> {
        let (reply, done) = oneshot::channel();
        self.ops
            .send(Op::Append {
                doc,
                updates,
                authored,
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        Ok(done)
    }

    /// Appends and waits until durable.
    pub async fn append(&self, doc: DocId, updates: Vec<Bytes>) -> Result<i64, StoreError> {
        self.submit_append(doc, updates, Vec::new())
            .await?
            .await
            .map_err(|_| StoreError::WriterGone)?
    }

    /// Replaces the log up to `upto_seq` with `snapshot`, which must contain every update
    /// up to and including that sequence number.
    pub async fn compact(
        &self,
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
    ) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.ops
            .send(Op::Compact {
                doc,
                snapshot,
                upto_seq,
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        done.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Reads a document's snapshot, log and client id bindings; `None` if there is no
    /// such document.
    #[tracing::instrument(skip(self))]
    pub async fn load(&self, doc: &DocId) -> Result<Option<StoredDoc>, StoreError> {
        let Some(mut stored) = self.load_content(doc).await? else {
            return Ok(None);
        };
        stored.bindings = authorship::bindings(&self.db, doc).await?;
        Ok(Some(stored))
    }

    async fn load_content(&self, doc: &DocId) -> Result<Option<StoredDoc>, StoreError> {
        on_pool!(&self.db, pool => {
            let head: Option<(i64,)> = sqlx::query_as("SELECT head_seq FROM documents WHERE id = $1")
                .bind(doc.as_str())
                .fetch_optional(pool)
                .await?;
            let Some((head_seq,)) = head else { return Ok(None) };
            // The log first, then the snapshot: see the module comment.
            let log: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT seq, data FROM document_updates WHERE doc_id = $1 ORDER BY seq",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?;
            let snapshot: Option<(i64, Vec<u8>, i16)> =
                sqlx::query_as("SELECT seq, data, encoding FROM document_snapshots WHERE doc_id = $1")
                    .bind(doc.as_str())
                    .fetch_optional(pool)
                    .await?;
            let snapshot = snapshot.map(stored_snapshot).transpose()?;
            let snapshot_seq = snapshot.as_ref().map_or(0, |s| s.0);
            // Entries committed after the documents row was read are in the log read
            // after it: the position reached is the newest entry actually read.
            let last_logged = log.last().map_or(0, |(seq, _)| *seq);
            let head_seq = head_seq.max(snapshot_seq).max(last_logged);
            let updates = log.into_iter().filter(|(seq, _)| *seq > snapshot_seq).collect();
            Ok(Some(StoredDoc { snapshot: snapshot.map(|(_, s)| s), updates, head_seq, bindings: Vec::new() }))
        })
    }

    /// What was stored for `doc` after sequence number `after`, in order; with the
    /// snapshot if the log was compacted past `after`. Reads the log before the snapshot,
    /// like `load`, so a concurrent compaction cannot hide anything.
    pub async fn read_after(&self, doc: &DocId, after: i64) -> Result<CatchUp, StoreError> {
        on_pool!(&self.db, pool => {
            let updates: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT seq, data FROM document_updates WHERE doc_id = $1 AND seq > $2 ORDER BY seq",
            )
            .bind(doc.as_str())
            .bind(after)
            .fetch_all(pool)
            .await?;
            if updates.first().is_some_and(|(seq, _)| *seq == after + 1) {
                return Ok(CatchUp { snapshot: None, updates });
            }
            let snapshot: Option<(i64, Vec<u8>, i16)> = sqlx::query_as(
                "SELECT seq, data, encoding FROM document_snapshots WHERE doc_id = $1 AND seq > $2",
            )
            .bind(doc.as_str())
            .bind(after)
            .fetch_optional(pool)
            .await?;
            let snapshot = snapshot.map(stored_snapshot).transpose()?;
            Ok(CatchUp { snapshot, updates })
        })
    }

    /// Moves the log entries `seqs` of `doc` into `quarantined_updates`, with `reason`:
    /// they made yrs panic (see `sync::quarantine`), so loading the document must not
    /// replay them, and they are kept for whoever investigates. Entries already gone
    /// (compacted, or moved by another node) are skipped.
    pub async fn quarantine(
        &self,
        doc: &DocId,
        seqs: &[i64],
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for &seq in seqs {
                sqlx::query(
                    "INSERT INTO quarantined_updates (doc_id, seq, data, created_at, quarantined_at, reason) \
                     SELECT doc_id, seq, data, created_at, $3, $4 FROM document_updates \
                     WHERE doc_id = $1 AND seq = $2 ON CONFLICT (doc_id, seq) DO NOTHING",
                )
                .bind(doc.as_str())
                .bind(seq)
                .bind(now)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM document_updates WHERE doc_id = $1 AND seq = $2")
                    .bind(doc.as_str())
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Bytes stored for a document.
    pub async fn stored_size(&self, doc: &DocId) -> Result<StoredSize, StoreError> {
        on_pool!(&self.db, pool => {
            let size: StoredSize = sqlx::query_as(
                "SELECT \
                   COALESCE((SELECT SUM(LENGTH(data)) FROM document_snapshots WHERE doc_id = $1), 0) AS snapshot_bytes, \
                   COALESCE((SELECT SUM(LENGTH(data)) FROM document_updates WHERE doc_id = $1), 0) AS log_bytes, \
                   (SELECT COUNT(*) FROM document_updates WHERE doc_id = $1) AS log_rows",
            )
            .bind(doc.as_str())
            .fetch_one(pool)
            .await?;
            Ok(size)
        })
    }
}

/// A `(seq, data, encoding)` row as a snapshot; an unknown encoding is a corrupt row.
fn stored_snapshot(
    (seq, data, encoding): (i64, Vec<u8>, i16),
) -> Result<(i64, Snapshot), StoreError> {
    Snapshot::from_stored(encoding, data)
        .map(|s| (seq, s))
        .map_err(StoreError::Corrupt)
}

async fn run_writer(
    db: Db,
    announce: Option<AppendNotice>,
    metrics: Arc<Metrics>,
    mut rx: mpsc::Receiver<Op>,
) {
    let mut ops = Vec::with_capacity(MAX_OPS_PER_COMMIT);
    while rx.recv_many(&mut ops, MAX_OPS_PER_COMMIT).await > 0 {
        let started = Instant::now();
        let written = write_batch_retrying(&db, announce.as_ref(), &ops).await;
        metrics.commit_latency.observe(started.elapsed());
        match written {
            Ok(outcomes) => {
                for (op, outcome) in ops.drain(..).zip(outcomes) {
                    reply(op, outcome);
                }
            }
            Err(error) => {
                tracing::error!(%error, ops = ops.len(), "group commit failed");
                for op in ops.drain(..) {
                    reply(
                        op,
                        Err(StoreError::Database(sqlx::Error::Protocol(format!(
                            "group commit failed: {error}"
                        )))),
                    );
                }
            }
        }
    }
}

/// What happened to one operation of a committed batch.
enum Outcome {
    Appended(i64),
    Compacted,
    NoSuchDocument,
    /// The append was refused (a client id bound to someone else), nothing written.
    Refused(StoreError),
}

fn reply(op: Op, outcome: Result<Outcome, StoreError>) {
    // A dropped receiver means the room went away; the data is written either way.
    match op {
        Op::Append { reply, .. } => {
            let _ = reply.send(outcome.and_then(|o| match o {
                Outcome::Appended(seq) => Ok(seq),
                Outcome::Refused(error) => Err(error),
                _ => Err(StoreError::NoSuchDocument),
            }));
        }
        Op::Compact { reply, .. } => {
            let _ = reply.send(outcome.and_then(|o| match o {
                Outcome::Compacted => Ok(()),
                _ => Err(StoreError::NoSuchDocument),
            }));
        }
    }
}

async fn write_batch(
    db: &Db,
    announce: Option<&AppendNotice>,
    ops: &[Op],
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let now = now_ms();
    if let Db::Sqlite(pool) = db
        && announce.is_none()
        && let Some(appends) = plain_appends(ops)
    {
        return write_appends(pool, appends, now).await;
    }
    let mut notices = Vec::new();
    on_pool!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let mut outcomes = Vec::with_capacity(ops.len());
        for index in lock_order(ops) {
            let op = &ops[index];
            let outcome = match op {
                Op::Append { doc, updates, authored, .. } => 'append: {
                    if authored.iter().any(|a| !a.binds.is_empty()) {
                        // A no-op update locks the document's row (PostgreSQL), so no other
                        // node binds the same client id between the check and the insert.
                        let exists: Option<(i64,)> = sqlx::query_as(
                            "UPDATE documents SET head_seq = head_seq WHERE id = $1 RETURNING head_seq",
                        )
                        .bind(doc.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        if exists.is_none() {
                            break 'append Outcome::NoSuchDocument;
                        }
                        // Check every claim first (against the table and the append's own
                        // earlier claims), insert only if none is someone else's: a refused
                        // append leaves nothing behind, not even the bindings it carried.
                        let mut claims: HashMap<u64, &Authored> = HashMap::new();
                        let mut fresh = Vec::new();
                        for (index, author) in authored.iter().enumerate() {
                            for &client in &author.binds {
                                let owner: Option<(UserId, OrgId)> = match claims.get(&client) {
                                    Some(earlier) => Some((earlier.user.clone(), earlier.org.clone())),
                                    None => sqlx::query_as(
                                        "SELECT user_id, org_id FROM document_authors WHERE doc_id = $1 AND client_id = $2",
                                    )
                                    .bind(doc.as_str())
                                    .bind(client as i64)
                                    .fetch_optional(&mut *tx)
                                    .await?,
                                };
                                match owner {
                                    Some((owner, owner_org)) if owner != author.user => {
                                        break 'append Outcome::Refused(StoreError::ClientIdTaken {
                                            index,
                                            client,
                                            owner,
                                            owner_org,
                                        });
                                    }
                                    Some(_) => {}
                                    None => fresh.push((client, author)),
                                }
                                claims.insert(client, author);
                            }
                        }
                        for (client, author) in fresh {
                            sqlx::query(
                                "INSERT INTO document_authors (doc_id, client_id, user_id, org_id, bound_at) \
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(doc.as_str())
                            .bind(client as i64)
                            .bind(&author.user)
                            .bind(&author.org)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    match LogRows::append(&mut *tx, doc, updates, authored, now).await? {
                        None => Outcome::NoSuchDocument,
                        Some(head) => {
                            if let Some(announce) = announce {
                                notices.push(announce(doc, head));
                            }
                            Outcome::Appended(head)
                        }
                    }
                }
                Op::Compact { doc, snapshot, upto_seq, .. } => {
                    let written = sqlx::query(
                        "INSERT INTO document_snapshots (doc_id, seq, data, created_at, encoding) \
                         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM documents WHERE id = $1) \
                         ON CONFLICT (doc_id) DO UPDATE SET seq = excluded.seq, data = excluded.data, \
                         created_at = excluded.created_at, encoding = excluded.encoding \
                         WHERE document_snapshots.seq <= excluded.seq",
                    )
                    .bind(doc.as_str())
                    .bind(*upto_seq)
                    .bind(snapshot.data.as_slice())
                    .bind(now)
                    .bind(snapshot.encoding as i16)
                    .execute(&mut *tx)
                    .await?;
                    // Nothing written: the document is gone, or another node already
                    // stored a newer snapshot (which covers ours; the prefix can go).
                    let exists = written.rows_affected() > 0
                        || sqlx::query("SELECT 1 FROM documents WHERE id = $1")
                            .bind(doc.as_str())
                            .fetch_optional(&mut *tx)
                            .await?
                            .is_some();
                    if !exists {
                        Outcome::NoSuchDocument
                    } else {
                        sqlx::query("DELETE FROM document_updates WHERE doc_id = $1 AND seq <= $2")
                            .bind(doc.as_str())
                            .bind(*upto_seq)
                            .execute(&mut *tx)
                            .await?;
                        Outcome::Compacted
                    }
                }
            };
            outcomes.push((index, Ok(outcome)));
        }
        // Delivered by PostgreSQL only if, and when, the transaction commits.
        for notice in &notices {
            sqlx::query("SELECT pg_notify($1, $2)").bind(notice.channel).bind(notice.payload.as_str()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(in_batch_order(outcomes))
    })
}

/// A batch's operations in [`lock_order`], as the appends they are, when each is an
/// append that binds no client id: what [`write_appends`] takes. Anything else (a
/// compaction, a first write under a client id, which is checked against the table
/// first) goes statement by statement.
fn plain_appends(ops: &[Op]) -> Option<Vec<(usize, Append<'_>)>> {
    lock_order(ops)
        .into_iter()
        .map(|index| match &ops[index] {
            Op::Append {
                doc,
                updates,
                authored,
                ..
            } if authored.iter().all(|a| a.binds.is_empty()) => Some((
                index,
                Append {
                    doc,
                    updates,
                    authored,
                },
            )),
            _ => None,
        })
        .collect()
}

/// Writes a batch of plain appends on SQLite in one round trip (`log_rows::append_all`).
async fn write_appends(
    pool: &SqlitePool,
    appends: Vec<(usize, Append<'_>)>,
    now: i64,
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let (order, appends): (Vec<usize>, Vec<Append<'_>>) = appends.into_iter().unzip();
    let mut conn = pool.acquire().await?;
    let heads = match log_rows::append_all(&mut conn, &appends, now).await {
        Ok(heads) => heads,
        Err(error) => {
            // The script may have stopped inside its transaction: closing the
            // connection rolls it back, where the pool would hand it on still open.
            conn.close_on_drop();
            return Err(error.into());
        }
    };
    let outcomes = order
        .into_iter()
        .zip(heads)
        .map(|(index, head)| {
            let outcome = head.map_or(Outcome::NoSuchDocument, Outcome::Appended);
            (index, Ok(outcome))
        })
        .collect();
    Ok(in_batch_order(outcomes))
}

/// Outcomes written in [`lock_order`], put back in the order of the batch's operations.
fn in_batch_order(
    mut outcomes: Vec<(usize, Result<Outcome, StoreError>)>,
) -> Vec<Result<Outcome, StoreError>> {
    outcomes.sort_by_key(|(index, _)| *index);
    outcomes.into_iter().map(|(_, outcome)| outcome).collect()
}

/// The order a batch's operations are written in: by document, each document's own in
/// the order they came. Every node then takes documents' rows in one order, so two
/// nodes' batches touching the same documents (appends on one, compactions on the
/// other) wait for each other instead of deadlocking (docs/BENCHMARKS.md, the cluster
/// scenario of session 8).
fn lock_order(ops: &[Op]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by(|&a, &b| ops[a].doc().as_str().cmp(ops[b].doc().as_str()));
    order
}

impl Op {
    fn doc(&self) -> &DocId {
        match self {
            Op::Append { doc, .. } | Op::Compact { doc, .. } => doc,
        }
    }
}

/// Whether PostgreSQL rolled the batch back to break a deadlock: nothing of it was
/// written, so it can be written again.
fn is_deadlock(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.code().as_deref() == Some("40P01"))
}

/// Writes a batch, again (up to [`DEADLOCK_RETRIES`] times) when PostgreSQL chose it
/// as a deadlock's victim.
async fn write_batch_retrying(
    db: &Db,
    announce: Option<&AppendNotice>,
    ops: &[Op],
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let mut attempt = 0;
    loop {
        match write_batch(db, announce, ops).await {
            Err(error) if is_deadlock(&error) && attempt < DEADLOCK_RETRIES => {
                attempt += 1;
                tracing::warn!(%error, attempt, "group commit chosen as a deadlock's victim; writing it again");
            }
            result => return result,
        }
    }
}

/// How often a batch a deadlock rolled back is written again before its operations fail.
const DEADLOCK_RETRIES: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn append(doc: &str) -> Op {
        let (reply, _) = oneshot::channel();
        Op::Append {
            doc: DocId::parse(doc).expect("a valid id"),
            updates: Vec::new(),
            authored: Vec::new(),
            reply,
        }
    }

    #[test]
    fn a_batch_is_written_document_by_document_keeping_each_documents_order() {
        let ops = [append("b"), append("a"), append("b"), append("a")];
        assert_eq!(lock_order(&ops), vec![1, 3, 0, 2]);
    }
}
