//! The rows that say who wrote what in a document: which user and organisation each Yjs
//! client id belongs to (`document_authors`), and who deleted what (`document_deletions`).
//!
//! Yjs names every character by the client id that inserted it, so binding client ids
//! to people attributes every insertion; deletions carry no client id, so each stored
//! update that deleted anything keeps its delete set here with its author. Both are
//! written by the journal in the transaction that stores the update ([`Authored`] rides
//! along with it), so nothing is attributed that was not stored and nothing stored goes
//! unattributed. Compaction deletes log rows only: these survive it.

use sqlx::FromRow;

use crate::ids::{DocId, OrgId, UserId};
use crate::on_pool;
use crate::storage::{Db, StoreError};

/// What the journal writes beside one update: its author, the client ids it writes
/// under that the room had not seen bound yet, and its delete set if it deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authored {
    pub user: UserId,
    pub org: OrgId,
    /// Client ids to bind to `user` and `org` (first use in this document).
    pub binds: Vec<u64>,
    /// The update's delete set, Yjs v1 encoding; `None` when it deletes nothing.
    pub deletes: Option<Vec<u8>>,
}

/// One client id's owner in a document.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Binding {
    pub client_id: i64,
    pub user_id: UserId,
    pub org_id: OrgId,
}

impl Binding {
    /// The client id as Yjs has it (stored as `BIGINT`; Yjs ids fit in 53 bits).
    pub fn client(&self) -> u64 {
        self.client_id as u64
    }
}

/// One stored update's deletions.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Deletion {
    pub seq: i64,
    pub user_id: UserId,
    pub org_id: OrgId,
    pub deleted_at: i64,
    /// Yjs v1 encoding of the delete set.
    pub delete_set: Vec<u8>,
}

/// Every client id bound in `doc`.
#[tracing::instrument(skip(db))]
pub async fn bindings(db: &Db, doc: &DocId) -> Result<Vec<Binding>, StoreError> {
    on_pool!(db, pool => {
        let rows: Vec<Binding> = sqlx::query_as(
            "SELECT client_id, user_id, org_id FROM document_authors WHERE doc_id = $1 ORDER BY client_id",
        )
        .bind(doc.as_str())
        .fetch_all(pool)
        .await?;
        Ok(rows)
    })
}

/// Every stored deletion of `doc`, oldest first.
#[tracing::instrument(skip(db))]
pub async fn deletions(db: &Db, doc: &DocId) -> Result<Vec<Deletion>, StoreError> {
    on_pool!(db, pool => {
        let rows: Vec<Deletion> = sqlx::query_as(
            "SELECT seq, user_id, org_id, deleted_at, delete_set FROM document_deletions \
             WHERE doc_id = $1 ORDER BY seq",
        )
        .bind(doc.as_str())
        .fetch_all(pool)
        .await?;
        Ok(rows)
    })
}

/// One client id's organisation, named, for the editor's marks in the text.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ClientOrg {
    pub client_id: i64,
    pub org_id: OrgId,
    /// The organisation's name; `None` if the organisation is gone.
    pub org_name: Option<String>,
}

/// Up to `limit` client ids bound in `doc` above `after`, in client id order: a page of
/// them, because a document gathers one per page load per writer.
#[tracing::instrument(skip(db))]
pub async fn client_orgs(
    db: &Db,
    doc: &DocId,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<ClientOrg>, StoreError> {
    on_pool!(db, pool => {
        let rows: Vec<ClientOrg> = sqlx::query_as(
            "SELECT a.client_id, a.org_id, o.name AS org_name FROM document_authors a \
             LEFT JOIN organisations o ON o.id = a.org_id \
             WHERE a.doc_id = $1 AND a.client_id > $2 ORDER BY a.client_id LIMIT $3",
        )
        .bind(doc.as_str())
        .bind(after.unwrap_or(i64::MIN))
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok(rows)
    })
}
