//! SQL for remiss rounds and invitees.

use crate::ids::{DocId, OrgId, UserId};
use crate::on_pool;
use crate::remiss::model::{Answer, InviteeRow, Phase, RoundRow};
use crate::storage::{Db, StoreError, now_ms};

/// A round's settable fields, whole (the route merges a partial update first).
#[derive(Debug, Clone)]
pub struct RoundUpdate<'a> {
    pub diarienummer: Option<&'a str>,
    pub phase: Phase,
    pub deadline: Option<&'a str>,
    pub by: &'a UserId,
}

/// Which first moment of an invitee to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstMoment {
    /// Someone of it opened the document.
    Opened,
    /// Someone of it opened a thread or replied.
    Commented,
}

impl Db {
    /// The document's round; a document that never had one is in `beredning`.
    pub async fn remiss_round(&self, doc: &DocId) -> Result<RoundRow, StoreError> {
        let row: Option<RoundRow> = on_pool!(self, pool => {
            sqlx::query_as::<_, RoundRow>(
                "SELECT diarienummer, phase, deadline FROM remiss_rounds WHERE doc_id = $1",
            )
            .bind(doc.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.unwrap_or_else(|| RoundRow {
            phase: Phase::default().as_str().to_owned(),
            ..RoundRow::default()
        }))
    }

    /// Stores the round's fields.
    #[tracing::instrument(skip(self, update), fields(doc = %doc))]
    pub async fn set_remiss_round(
        &self,
        doc: &DocId,
        update: &RoundUpdate<'_>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO remiss_rounds (doc_id, diarienummer, phase, deadline, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (doc_id) DO UPDATE SET diarienummer = excluded.diarienummer, \
                 phase = excluded.phase, deadline = excluded.deadline, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(doc.as_str())
            .bind(update.diarienummer)
            .bind(update.phase.as_str())
            .bind(update.deadline)
            .bind(now_ms())
            .bind(update.by.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The organisations with a role on the document other than its owner, with what
    /// they did, in the order they were invited.
    pub async fn remiss_invitees(&self, doc: &DocId) -> Result<Vec<InviteeRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, InviteeRow>(
                "SELECT i.org_id, o.name AS org_name, m.role, i.invited_at, i.opened_at, \
                 i.first_comment_at, i.done_at, i.declined_at, i.statement, \
                 (SELECT COUNT(*) FROM threads t WHERE t.doc_id = i.doc_id AND t.org_id = i.org_id) AS threads \
                 FROM remiss_invitees i \
                 JOIN documents d ON d.id = i.doc_id \
                 JOIN document_members m ON m.doc_id = i.doc_id AND m.principal_kind = 'org' AND m.principal_id = i.org_id \
                 LEFT JOIN organisations o ON o.id = i.org_id \
                 WHERE i.doc_id = $1 AND i.org_id <> d.owner_org \
                 ORDER BY i.invited_at, i.org_id",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?)
        })
    }

    /// Records that an organisation was given a role; the first time counts, so an
    /// organisation invited again keeps its history.
    pub async fn record_invited(&self, doc: &DocId, org: &OrgId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO remiss_invitees (doc_id, org_id, invited_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (doc_id, org_id) DO NOTHING",
            )
            .bind(doc.as_str())
            .bind(org.as_str())
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records an invitee's first open or first comment; true only the first time (so the
    /// caller knows whether to write it to the audit trail). Organisations that are not
    /// invitees (the owner) have no row and are ignored.
    pub async fn record_first(
        &self,
        doc: &DocId,
        org: &OrgId,
        moment: FirstMoment,
    ) -> Result<bool, StoreError> {
        let sql = match moment {
            FirstMoment::Opened => {
                "UPDATE remiss_invitees SET opened_at = $3 \
                 WHERE doc_id = $1 AND org_id = $2 AND opened_at IS NULL"
            }
            FirstMoment::Commented => {
                "UPDATE remiss_invitees SET first_comment_at = $3 \
                 WHERE doc_id = $1 AND org_id = $2 AND first_comment_at IS NULL"
            }
        };
        on_pool!(self, pool => {
            let done = sqlx::query(sql)
                .bind(doc.as_str())
                .bind(org.as_str())
                .bind(now_ms())
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Sets each invitee's first comment from the comments already stored (for documents
    /// whose threads were written straight to the database, like the demo's).
    pub async fn backfill_first_comments(&self, doc: &DocId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE remiss_invitees SET first_comment_at = COALESCE(first_comment_at, ( \
                 SELECT MIN(c.created_at) FROM comments c JOIN threads t ON t.id = c.thread_id \
                 WHERE t.doc_id = remiss_invitees.doc_id AND c.org_id = remiss_invitees.org_id)) \
                 WHERE doc_id = $1",
            )
            .bind(doc.as_str())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Sets an invitee's answer, replacing any earlier one; false if it is no invitee.
    pub async fn set_remiss_answer(
        &self,
        doc: &DocId,
        org: &OrgId,
        answer: Answer,
        statement: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (done_at, declined_at) = match answer {
            Answer::Done => (Some(now_ms()), None),
            Answer::Declined => (None, Some(now_ms())),
        };
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE remiss_invitees SET done_at = $3, declined_at = $4, statement = $5 \
                 WHERE doc_id = $1 AND org_id = $2",
            )
            .bind(doc.as_str())
            .bind(org.as_str())
            .bind(done_at)
            .bind(declined_at)
            .bind(statement)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }
}
