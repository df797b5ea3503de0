//! SQL for remiss rounds and invitees.

use crate::auth::Identity;
use crate::consultation::extensions;
use crate::consultation::model::{Answer, InviteeRow, Phase, PhaseSet, RoundRow, SubmissionRow};
use crate::ids::{DocId, OrgId, UserId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// The round's stored fields.
const ROUND_SQL: &str =
    "SELECT diarienummer, phase, deadline, suggestion_phases FROM remiss_rounds WHERE doc_id = $1";

/// A missing round row: a document that never had one is in `beredning`.
fn round_or_default(row: Option<RoundRow>) -> RoundRow {
    row.unwrap_or_default()
}

/// A round's settable fields, whole (the route merges a partial update first).
#[derive(Debug, Clone)]
pub struct RoundUpdate<'a> {
    pub diarienummer: Option<&'a str>,
    pub phase: Phase,
    pub deadline: Option<&'a str>,
    pub suggestion_phases: PhaseSet,
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
            sqlx::query_as::<_, RoundRow>(ROUND_SQL)
                .bind(doc.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(round_or_default(row))
    }

    /// Whether the owners require changes to `doc` to be suggested now (its round is in
    /// one of the phases they chose): what a connection's admission reads, and the
    /// periodic membership recheck with it.
    pub async fn suggestions_required(&self, doc: &DocId) -> Result<bool, StoreError> {
        Ok(self.remiss_round(doc).await?.suggestions_required())
    }

    /// The organisations with a role on the document other than its owner, with what
    /// they did, in the order they were invited.
    pub async fn remiss_invitees(&self, doc: &DocId) -> Result<Vec<InviteeRow>, StoreError> {
        let sql = format!(
            "SELECT i.org_id, o.name AS org_name, m.role, i.invited_at, i.opened_at, \
                 i.first_comment_at, i.done_at, i.declined_at, i.statement, \
                 (SELECT COUNT(*) FROM threads t WHERE t.doc_id = i.doc_id AND t.org_id = i.org_id) AS threads, \
                 (SELECT rr.deadline FROM remiss_rounds rr WHERE rr.doc_id = i.doc_id) AS round_deadline, \
                 {} AS granted_date \
                 FROM remiss_invitees i \
                 JOIN documents d ON d.id = i.doc_id \
                 JOIN document_members m ON m.doc_id = i.doc_id AND m.principal_kind = 'org' AND m.principal_id = i.org_id \
                 LEFT JOIN organisations o ON o.id = i.org_id \
                 WHERE i.doc_id = $1 AND i.org_id <> d.owner_org \
                 ORDER BY i.invited_at, i.org_id",
            extensions::GRANTED_SQL
        );
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, InviteeRow>(sqlx::AssertSqlSafe(sql))
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

    /// Every answer each invitee submitted, oldest first per organisation.
    pub async fn remiss_submissions(&self, doc: &DocId) -> Result<Vec<SubmissionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, SubmissionRow>(
                "SELECT org_id, seq, answer, statement, submitted_at, submitted_by, submitted_by_name \
                 FROM remiss_statements WHERE doc_id = $1 ORDER BY org_id, seq",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        }))
    }
}

impl Tx {
    /// Stores the round's fields.
    #[tracing::instrument(skip(self, update), fields(doc = %doc))]
    pub async fn set_remiss_round(
        &mut self,
        doc: &DocId,
        update: &RoundUpdate<'_>,
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO remiss_rounds (doc_id, diarienummer, phase, deadline, updated_at, updated_by, suggestion_phases) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (doc_id) DO UPDATE SET diarienummer = excluded.diarienummer, \
                 phase = excluded.phase, deadline = excluded.deadline, \
                 suggestion_phases = excluded.suggestion_phases, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(doc.as_str())
            .bind(update.diarienummer)
            .bind(update.phase)
            .bind(update.deadline)
            .bind(now_ms())
            .bind(update.by.as_str())
            .bind(update.suggestion_phases)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// The document's round, read inside the transaction.
    pub async fn remiss_round(&mut self, doc: &DocId) -> Result<RoundRow, StoreError> {
        let row: Option<RoundRow> = on_tx!(self, conn => {
            sqlx::query_as::<_, RoundRow>(ROUND_SQL)
                .bind(doc.as_str())
                .fetch_optional(&mut *conn)
                .await?
        });
        Ok(round_or_default(row))
    }

    /// The round as it applies to `org`: its svarsdatum is `org`'s effective one (a later
    /// date granted to it replaces the round's), read inside the transaction.
    pub async fn remiss_round_for(
        &mut self,
        doc: &DocId,
        org: &OrgId,
    ) -> Result<RoundRow, StoreError> {
        let mut round = self.remiss_round(doc).await?;
        let granted = self.granted_date(doc, org).await?;
        round.deadline = extensions::effective(round.deadline.as_deref(), granted.as_deref());
        Ok(round)
    }

    /// Whether `org` is invited to the remiss on `doc`: it has an invitee row and a role on
    /// the document, and is not its owner (the rows `remiss_invitees` lists).
    pub async fn is_remiss_invitee(
        &mut self,
        doc: &DocId,
        org: &OrgId,
    ) -> Result<bool, StoreError> {
        let (count,): (i64,) = on_tx!(self, conn => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM remiss_invitees i \
                 JOIN documents d ON d.id = i.doc_id \
                 JOIN document_members m ON m.doc_id = i.doc_id AND m.principal_kind = 'org' AND m.principal_id = i.org_id \
                 WHERE i.doc_id = $1 AND i.org_id = $2 AND i.org_id <> d.owner_org",
            )
            .bind(doc.as_str())
            .bind(org.as_str())
            .fetch_one(&mut *conn)
            .await?
        });
        Ok(count > 0)
    }

    /// Records an invitee's first open or first comment; true only the first time (so the
    /// caller knows whether to write it to the audit trail). Organisations that are not
    /// invitees (the owner) have no row and are ignored.
    pub async fn record_first(
        &mut self,
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
        on_tx!(self, conn => {
            let done = sqlx::query(sql)
                .bind(doc.as_str())
                .bind(org.as_str())
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Sets an invitee's answer and keeps it as a new submission beside the earlier ones;
    /// false if the caller's organisation is no invitee. Returns the submission's number.
    pub async fn submit_remiss_answer(
        &mut self,
        doc: &DocId,
        by: &Identity,
        answer: Answer,
        statement: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        let now = now_ms();
        let (done_at, declined_at) = match answer {
            Answer::Done => (Some(now), None),
            Answer::Declined => (None, Some(now)),
        };
        on_tx!(self, conn => {
            let done = sqlx::query(
                "UPDATE remiss_invitees SET done_at = $3, declined_at = $4, statement = $5 \
                 WHERE doc_id = $1 AND org_id = $2",
            )
            .bind(doc.as_str())
            .bind(by.org.as_str())
            .bind(done_at)
            .bind(declined_at)
            .bind(statement)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(None);
            }
            let (seq,): (i64,) = sqlx::query_as(
                "INSERT INTO remiss_statements (doc_id, org_id, seq, answer, statement, submitted_at, \
                 submitted_by, submitted_by_name) \
                 SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7 FROM remiss_statements \
                 WHERE doc_id = $1 AND org_id = $2 RETURNING seq",
            )
            .bind(doc.as_str())
            .bind(by.org.as_str())
            .bind(answer)
            .bind(statement)
            .bind(now)
            .bind(by.user.as_str())
            .bind(&by.name)
            .fetch_one(&mut *conn)
            .await?;
            Ok(Some(seq))
        })
    }
}
