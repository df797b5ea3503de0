//! `forankra purge --document ID`: the only way a document's data, audit trail included,
//! leaves the database.
//!
//! Through the API a document is only archived (`DELETE /api/documents/{id}`): its trail
//! is an official record and stays readable and verifiable. Removing it for good is an
//! administrative act done from the command line, on an archived document only, and it
//! leaves its own record in `purge_log`: which document, who, when, why, and the head of
//! its trail at that moment (number of entries and last hash), so an exported copy of the
//! trail can still be matched against what was removed.

use serde::Serialize;

use crate::ids::DocId;
use crate::on_pool;
use crate::storage::{BeginWrite, Db, StoreError, now_ms};

/// Why a purge was refused.
#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("no such document: {0}")]
    NoSuchDocument(String),
    #[error("the document {0} is not archived: archive it first (DELETE /api/documents/{0})")]
    NotArchived(String),
    #[error("--by and --reason must not be empty")]
    Unexplained,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PurgeError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

/// What `purge_log` keeps about one purge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PurgeRecord {
    pub doc_id: String,
    pub title: String,
    pub owner_org: String,
    pub purged_at: i64,
    pub purged_by: String,
    pub reason: String,
    /// How many entries the trail had.
    pub audit_entries: i64,
    /// The hash of its last entry (the genesis hash for an empty trail).
    pub audit_hash: String,
}

/// Deletes the archived document `doc` with everything that hangs off it and writes the
/// purge record, in one transaction.
pub async fn purge(
    db: &Db,
    doc: &DocId,
    by: &str,
    reason: &str,
) -> Result<PurgeRecord, PurgeError> {
    let (by, reason) = (by.trim(), reason.trim());
    if by.is_empty() || reason.is_empty() {
        return Err(PurgeError::Unexplained);
    }
    on_pool!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let row: Option<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT title, owner_org, archived_at FROM documents WHERE id = $1")
                .bind(doc.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (title, owner_org, archived_at) =
            row.ok_or_else(|| PurgeError::NoSuchDocument(doc.to_string()))?;
        if archived_at.is_none() {
            return Err(PurgeError::NotArchived(doc.to_string()));
        }
        // The head if there is one, else the last stored entry: what the trail ended with.
        let end: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_heads WHERE doc_id = $1 \
             UNION ALL SELECT * FROM (SELECT seq, hash FROM audit_log WHERE doc_id = $1 ORDER BY seq DESC LIMIT 1) l",
        )
        .bind(doc.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (audit_entries, audit_hash) =
            end.unwrap_or_else(|| (0, super::chain::genesis(doc.as_str())));
        let record = PurgeRecord {
            doc_id: doc.to_string(),
            title,
            owner_org,
            purged_at: now_ms(),
            purged_by: by.to_owned(),
            reason: reason.to_owned(),
            audit_entries,
            audit_hash,
        };
        sqlx::query(
            "INSERT INTO purge_log (doc_id, title, owner_org, purged_at, purged_by, reason, audit_entries, audit_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&record.doc_id)
        .bind(&record.title)
        .bind(&record.owner_org)
        .bind(record.purged_at)
        .bind(&record.purged_by)
        .bind(&record.reason)
        .bind(record.audit_entries)
        .bind(&record.audit_hash)
        .execute(&mut *tx)
        .await?;
        // Updates, snapshots, members, threads, the trail and its head go with the row
        // (ON DELETE CASCADE).
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(doc.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(record)
    })
}

/// Every purge record, oldest first.
pub async fn log(db: &Db) -> Result<Vec<PurgeRecord>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, PurgeRecord>(
            "SELECT doc_id, title, owner_org, purged_at, purged_by, reason, audit_entries, audit_hash \
             FROM purge_log ORDER BY purged_at, doc_id",
        )
        .fetch_all(pool)
        .await?
    }))
}
