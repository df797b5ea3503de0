//! SQL for documents and their membership.

use crate::auth::{PrincipalKind, Role};
use crate::documents::model::{DocumentRow, MemberRow};
use crate::ids::{DocId, OrgId, UserId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// The columns of a [`DocumentRow`], for `concat!` into static SQL.
macro_rules! document_columns {
    () => {
        "d.id, d.title, d.owner_org, COALESCE(o.name, d.owner_org) AS owner_org_name, \
         d.created_by, d.created_at, d.updated_at, d.archived_at"
    };
}

/// A new document's row and first content.
#[derive(Debug)]
pub struct NewDocument<'a> {
    pub id: &'a DocId,
    pub title: &'a str,
    pub owner_org: &'a OrgId,
    pub created_by: &'a UserId,
    /// The initial state as a v1 update, stored as the log's first entry.
    pub initial_update: Option<Vec<u8>>,
    /// The Yjs client ids that update writes under: bound to the creator, whose text
    /// it is (`storage::authorship`).
    pub initial_clients: Vec<u64>,
}

impl Tx {
    /// Creates a document whose creating organisation is its owner, with its first
    /// content, as part of the caller's transaction.
    #[tracing::instrument(skip(self, new), fields(doc = %new.id))]
    pub async fn create_document(&mut self, new: NewDocument<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        let head_seq = i64::from(new.initial_update.is_some());
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO documents (id, title, owner_org, created_by, created_at, updated_at, head_seq) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(new.id.as_str())
            .bind(new.title)
            .bind(new.owner_org.as_str())
            .bind(new.created_by.as_str())
            .bind(now)
            .bind(head_seq)
            .execute(&mut *conn)
            .await?;
            if let Some(update) = &new.initial_update {
                sqlx::query("INSERT INTO document_updates (doc_id, seq, data, created_at) VALUES ($1, 1, $2, $3)")
                    .bind(new.id.as_str())
                    .bind(update.as_slice())
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
            }
            for client in &new.initial_clients {
                sqlx::query(
                    "INSERT INTO document_authors (doc_id, client_id, user_id, org_id, bound_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(new.id.as_str())
                .bind(*client as i64)
                .bind(new.created_by.as_str())
                .bind(new.owner_org.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
        });
        self.set_member(
            new.id,
            PrincipalKind::Org,
            new.owner_org.as_str(),
            Role::Owner,
            new.created_by,
        )
        .await
    }

    /// One document, read inside the transaction (so a use case sees its own writes).
    pub async fn document(&mut self, id: &DocId) -> Result<Option<DocumentRow>, StoreError> {
        on_tx!(self, conn => {
            Ok(sqlx::query_as::<_, DocumentRow>(concat!(
                "SELECT ", document_columns!(),
                " FROM documents d LEFT JOIN organisations o ON o.id = d.owner_org WHERE d.id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?)
        })
    }

    /// Archives a document: it leaves every list and the editor, and keeps everything,
    /// its audit trail included (`forankra purge` removes it for good). False if it was
    /// already archived.
    pub async fn archive_document(&mut self, id: &DocId, by: &UserId) -> Result<bool, StoreError> {
        on_tx!(self, conn => {
            let done = sqlx::query(
                "UPDATE documents SET archived_at = $2, archived_by = $3 WHERE id = $1 AND archived_at IS NULL",
            )
            .bind(id.as_str())
            .bind(now_ms())
            .bind(by.as_str())
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// The role one principal holds on the document, if any, read inside the
    /// transaction that is about to change it.
    pub async fn member_role(
        &mut self,
        doc: &DocId,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Option<Role>, StoreError> {
        let role: Option<(String,)> = on_tx!(self, conn => {
            sqlx::query_as(
                "SELECT role FROM document_members WHERE doc_id = $1 AND principal_kind = $2 AND principal_id = $3",
            )
            .bind(doc.as_str())
            .bind(kind.as_str())
            .bind(principal)
            .fetch_optional(&mut *conn)
            .await?
        });
        role.map(|(role,)| role.parse().map_err(StoreError::Corrupt))
            .transpose()
    }

    /// Gives a principal a role, replacing any role it had.
    pub async fn set_member(
        &mut self,
        doc: &DocId,
        kind: PrincipalKind,
        principal: &str,
        role: Role,
        granted_by: &UserId,
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO document_members (doc_id, principal_kind, principal_id, role, granted_by, granted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (doc_id, principal_kind, principal_id) \
                 DO UPDATE SET role = excluded.role, granted_by = excluded.granted_by, granted_at = excluded.granted_at",
            )
            .bind(doc.as_str())
            .bind(kind.as_str())
            .bind(principal)
            .bind(role.as_str())
            .bind(granted_by.as_str())
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Takes a principal's role away; false if it had none.
    pub async fn remove_member(
        &mut self,
        doc: &DocId,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<bool, StoreError> {
        on_tx!(self, conn => {
            let done = sqlx::query(
                "DELETE FROM document_members WHERE doc_id = $1 AND principal_kind = $2 AND principal_id = $3",
            )
            .bind(doc.as_str())
            .bind(kind.as_str())
            .bind(principal)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }
}

impl Db {
    /// One document, if it exists.
    pub async fn document(&self, id: &DocId) -> Result<Option<DocumentRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, DocumentRow>(concat!(
                "SELECT ", document_columns!(),
                " FROM documents d LEFT JOIN organisations o ON o.id = d.owner_org WHERE d.id = $1"
            ))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Every live document (or, with `archived`, every archived one) the user can see,
    /// directly or through the organisation, with the strongest role, most recently
    /// edited first.
    pub async fn documents_for(
        &self,
        user: &UserId,
        org: &OrgId,
        archived: bool,
    ) -> Result<Vec<(DocumentRow, Role)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            doc: DocumentRow,
            role: String,
        }
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as::<_, Row>(concat!(
                "SELECT ", document_columns!(), ", m.role FROM documents d \
                 JOIN document_members m ON m.doc_id = d.id \
                 LEFT JOIN organisations o ON o.id = d.owner_org \
                 WHERE (CASE WHEN d.archived_at IS NULL THEN 0 ELSE 1 END) = $3 \
                   AND ((m.principal_kind = 'org' AND m.principal_id = $1) \
                    OR (m.principal_kind = 'user' AND m.principal_id = $2)) \
                 ORDER BY d.updated_at DESC, d.id"
            ))
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(i64::from(archived))
            .fetch_all(pool)
            .await?
        });
        let mut out: Vec<(DocumentRow, Role)> = Vec::with_capacity(rows.len());
        for row in rows {
            // An unknown stored role is a corrupt row, never a row to skip.
            let role = row.role.parse::<Role>().map_err(StoreError::Corrupt)?;
            match out.iter_mut().find(|(d, _)| d.id == row.doc.id) {
                Some((_, best)) => *best = (*best).max(role),
                None => out.push((row.doc, role)),
            }
        }
        Ok(out)
    }

    /// Renames a document.
    pub async fn rename_document(&self, id: &DocId, title: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE documents SET title = $2, updated_at = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(title)
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The membership rows with names, owners first.
    pub async fn member_rows(&self, id: &DocId) -> Result<Vec<MemberRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, MemberRow>(
                "SELECT m.principal_kind, m.principal_id, COALESCE(o.name, u.name) AS name, m.role, m.granted_by, m.granted_at \
                 FROM document_members m \
                 LEFT JOIN organisations o ON m.principal_kind = 'org' AND o.id = m.principal_id \
                 LEFT JOIN users u ON m.principal_kind = 'user' AND u.id = m.principal_id \
                 WHERE m.doc_id = $1 ORDER BY m.granted_at, m.principal_id",
            )
            .bind(id.as_str())
            .fetch_all(pool)
            .await?)
        })
    }
}
