//! SQL for versions. There is an `INSERT` and `SELECT`s, nothing else: a version is never
//! changed (the migration's trigger refuses an `UPDATE` too) and goes only with its
//! document.

use crate::ids::{DocId, VersionId};
use crate::storage::{Db, StoreError, Tx};
use crate::versions::model::VersionRow;
use crate::{on_pool, on_tx};

/// The columns of a [`VersionRow`].
macro_rules! version_columns {
    () => {
        "id, doc_id, name, paragraphs, created_by, created_by_name, created_by_org, created_at"
    };
}

/// A version to store.
#[derive(Debug)]
pub struct NewVersion<'a> {
    pub id: &'a VersionId,
    pub doc: &'a DocId,
    pub name: &'a str,
    /// The document's whole state, a Yjs v1 update.
    pub state: &'a [u8],
    pub paragraphs: i64,
    pub created_by: &'a str,
    pub created_by_name: &'a str,
    pub created_by_org: &'a str,
    pub created_at: i64,
}

impl Tx {
    /// Stores a new version as part of the caller's transaction.
    #[tracing::instrument(skip_all, fields(doc = %new.doc))]
    pub async fn insert_version(&mut self, new: &NewVersion<'_>) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO versions (id, doc_id, name, state, paragraphs, created_by, created_by_name, \
                 created_by_org, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(new.id)
            .bind(new.doc.as_str())
            .bind(new.name)
            .bind(new.state)
            .bind(new.paragraphs)
            .bind(new.created_by)
            .bind(new.created_by_name)
            .bind(new.created_by_org)
            .bind(new.created_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }
}

impl Db {
    /// A document's versions, oldest first.
    pub async fn versions(&self, doc: &DocId) -> Result<Vec<VersionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, VersionRow>(concat!(
                "SELECT ", version_columns!(), " FROM versions WHERE doc_id = $1 ORDER BY created_at, id"
            ))
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        }))
    }

    /// One version of a document, without its state.
    pub async fn version(
        &self,
        doc: &DocId,
        id: &VersionId,
    ) -> Result<Option<VersionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, VersionRow>(concat!(
                "SELECT ", version_columns!(), " FROM versions WHERE doc_id = $1 AND id = $2"
            ))
            .bind(doc.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// The stored Yjs state of one version of a document.
    pub async fn version_state(
        &self,
        doc: &DocId,
        id: &VersionId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, Vec<u8>>("SELECT state FROM versions WHERE doc_id = $1 AND id = $2")
                .bind(doc.as_str())
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }
}
