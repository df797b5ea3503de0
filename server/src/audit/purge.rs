//! `forankra purge --document ID`: the only way a document's data, audit trail included,
//! leaves the database.
//!
//! Through the API a document is only archived (`DELETE /api/documents/{id}`): its trail
//! is an official record and stays readable and verifiable. Removing it for good is an
//! administrative act done from the command line, on an archived document only, and it
//! leaves its own record in `purge_log`: which document, who, when, why, the head of its
//! trail at that moment (number of entries and last hash), so an exported copy of the
//! trail can still be matched against what was removed, and whether the trail verified.
//! The row carries a MAC under the audit key, so the command needs the key settings of
//! `serve`, and a purge record cannot be forged or edited with database access alone.
//! A trail that does not verify is evidence: it is purged only when asked explicitly.

use serde::Serialize;

use super::key::AuditKey;
use super::{chain, head};
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
    #[error(
        "the audit trail of {doc} does not verify (entry {seq}: {reason}); it is evidence. \
         Check GET /api/documents/{doc}/audit/verify, then purge with --despite-broken-trail \
         if you must"
    )]
    BrokenTrail {
        doc: String,
        seq: String,
        reason: String,
    },
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
    /// 1 if the trail verified at the purge, else 0 (see `audit_reason`).
    pub audit_valid: i64,
    /// Why it did not verify (`GET …/audit/verify`'s `reason`).
    pub audit_reason: Option<String>,
    /// HMAC over every field above under the audit key.
    pub mac: String,
}

impl PurgeRecord {
    fn signed_fields(&self) -> [String; 10] {
        [
            "purge".to_owned(),
            self.doc_id.clone(),
            self.title.clone(),
            self.owner_org.clone(),
            self.purged_at.to_string(),
            self.purged_by.clone(),
            self.reason.clone(),
            format!("{}:{}", self.audit_entries, self.audit_hash),
            self.audit_valid.to_string(),
            self.audit_reason.clone().unwrap_or_default(),
        ]
    }

    fn sign(&mut self, key: &AuditKey) {
        let fields = self.signed_fields();
        self.mac = key.sign(&fields.each_ref().map(String::as_str));
    }

    /// Whether the row is as `forankra purge` wrote it with this key.
    pub fn authentic(&self, key: &AuditKey) -> bool {
        let fields = self.signed_fields();
        key.verifies(&fields.each_ref().map(String::as_str), &self.mac)
    }
}

/// How a purge is asked for.
#[derive(Debug, Clone, Copy)]
pub struct PurgeRequest<'a> {
    pub doc: &'a DocId,
    /// Who decided it.
    pub by: &'a str,
    /// Why.
    pub reason: &'a str,
    /// Purge even if the trail does not verify (the verdict is kept in the record).
    pub despite_broken_trail: bool,
}

/// Verifies the trail of the archived document, deletes the document with everything
/// that hangs off it and writes the signed purge record, in one transaction.
pub async fn purge(
    db: &Db,
    key: &AuditKey,
    request: PurgeRequest<'_>,
) -> Result<PurgeRecord, PurgeError> {
    let (doc, by, reason) = (request.doc, request.by.trim(), request.reason.trim());
    if by.is_empty() || reason.is_empty() {
        return Err(PurgeError::Unexplained);
    }
    // Read before the transaction: an archived document's trail only grows by exports
    // and webhook deliveries, and what the record keeps is read again inside it.
    let entries = super::entries(db, doc).await?;
    let stored_head = head::load(db, doc).await?;
    let verdict = chain::verify(key, doc.as_str(), &entries, stored_head.as_ref());
    let audit_reason = verdict
        .reason
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    if !verdict.valid && !request.despite_broken_trail {
        return Err(PurgeError::BrokenTrail {
            doc: doc.to_string(),
            seq: verdict.first_broken.map_or("-".into(), |s| s.to_string()),
            reason: audit_reason.unwrap_or_default(),
        });
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
            end.unwrap_or_else(|| (0, chain::genesis(doc.as_str())));
        let mut record = PurgeRecord {
            doc_id: doc.to_string(),
            title,
            owner_org,
            purged_at: now_ms(),
            purged_by: by.to_owned(),
            reason: reason.to_owned(),
            audit_entries,
            audit_hash,
            audit_valid: i64::from(verdict.valid),
            audit_reason,
            mac: String::new(),
        };
        record.sign(key);
        sqlx::query(
            "INSERT INTO purge_log (doc_id, title, owner_org, purged_at, purged_by, reason, audit_entries, audit_hash, \
             audit_valid, audit_reason, mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&record.doc_id)
        .bind(&record.title)
        .bind(&record.owner_org)
        .bind(record.purged_at)
        .bind(&record.purged_by)
        .bind(&record.reason)
        .bind(record.audit_entries)
        .bind(&record.audit_hash)
        .bind(record.audit_valid)
        .bind(&record.audit_reason)
        .bind(&record.mac)
        .execute(&mut *tx)
        .await?;
        // Snapshots, members, threads, the trail and its head go with the row (ON DELETE
        // CASCADE). The update log has no foreign key on PostgreSQL (migration 0430), so
        // its rows are deleted here, after the document's row: that delete holds the row,
        // so no append can add to the log in between.
        sqlx::query("DELETE FROM documents WHERE id = $1")
            .bind(doc.as_str())
            .execute(&mut *tx)
            .await?;
        for log in [
            "DELETE FROM document_updates WHERE doc_id = $1",
            "DELETE FROM document_deletions WHERE doc_id = $1",
        ] {
            sqlx::query(log)
                .bind(doc.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(record)
    })
}

/// Every purge record, oldest first.
pub async fn log(db: &Db) -> Result<Vec<PurgeRecord>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, PurgeRecord>(
            "SELECT doc_id, title, owner_org, purged_at, purged_by, reason, audit_entries, audit_hash, \
             audit_valid, audit_reason, mac FROM purge_log ORDER BY purged_at, doc_id",
        )
        .fetch_all(pool)
        .await?
    }))
}
