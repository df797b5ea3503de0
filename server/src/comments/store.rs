//! SQL for threads and comments.
//!
//! Reads take the pool; every write takes the use case's [`Tx`], so a change commits
//! together with its audit entry (see `comments::changes`). Comments are append-only: an
//! edit adds a row to `comment_revisions`, a delete marks the comment withdrawn and keeps
//! its text.

use crate::comments::mentions::MentionResponse;
use crate::comments::model::{
    CommentRow, Outcome, RevisionRow, Stance, ThreadKind, ThreadRow, ThreadStatus,
};
use crate::ids::{CommentId, DocId, ThreadId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// The latest version `v` saved at or before thread `t` was opened. Ids are time-ordered
/// (UUIDv7, monotonic in one process), so within one millisecond the id says which came first.
macro_rules! saved_before_thread {
    () => {
        "v.doc_id = t.doc_id AND (v.created_at < t.created_at OR (v.created_at = t.created_at AND v.id < t.id)) \
         ORDER BY v.created_at DESC, v.id DESC LIMIT 1"
    };
}

/// The columns of a [`ThreadRow`], for `concat!` into static SQL.
macro_rules! thread_columns {
    () => {
        concat!("t.id, t.doc_id, t.anchor_start, t.anchor_end, t.original_quote, t.original_paragraph, \
         t.doc_version, t.author_id, t.author_name, t.org_id, o.name AS org_name, t.stance, t.proposal, \
         t.kind, t.status, t.outcome, t.motivation, t.resolved_by, t.resolved_by_name, t.resolved_at, \
         t.created_at, t.updated_at, \
         (SELECT v.id FROM versions v WHERE ", saved_before_thread!(), ") AS named_version_id, \
         (SELECT v.name FROM versions v WHERE ", saved_before_thread!(), ") AS named_version_name")
    };
}

/// The columns of a [`CommentRow`].
macro_rules! comment_columns {
    () => {
        "c.id, c.thread_id, c.author_id, c.author_name, c.org_id, o.name AS org_name, c.body, \
         c.created_at, c.edited_at, c.deleted_at, c.deleted_by, c.deleted_by_name, c.sealed_at"
    };
}

/// Who writes something.
#[derive(Debug, Clone)]
pub struct Author<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub org: &'a str,
}

/// A thread to open, with its first comment.
#[derive(Debug)]
pub struct NewThread<'a> {
    pub id: &'a ThreadId,
    pub comment_id: &'a CommentId,
    pub doc: &'a DocId,
    pub anchor_start: &'a [u8],
    pub anchor_end: &'a [u8],
    pub quote: &'a str,
    /// The top-level block holding the anchor's start (`None` stores as 0).
    pub paragraph: Option<i64>,
    /// That block's identity (`anchor::block_key`), which tells which threads share a
    /// paragraph (`notifications::paragraph`); `None` when it has none.
    pub block: Option<&'a str>,
    pub doc_version: &'a [u8],
    pub author: Author<'a>,
    pub stance: Option<Stance>,
    pub proposal: Option<&'a str>,
    pub kind: ThreadKind,
    pub body: &'a str,
}

/// Gives each comment its current mentions (taken out of `mentions`).
fn with_mentions(
    comments: Vec<CommentRow>,
    mentions: &mut std::collections::HashMap<CommentId, Vec<MentionResponse>>,
) -> Vec<CommentRow> {
    comments
        .into_iter()
        .map(|mut comment| {
            comment.mentions = mentions.remove(&comment.id).unwrap_or_default();
            comment
        })
        .collect()
}

impl Db {
    /// One thread of a document, with its comments.
    pub async fn thread(
        &self,
        doc: &DocId,
        id: &ThreadId,
    ) -> Result<Option<(ThreadRow, Vec<CommentRow>)>, StoreError> {
        let row: Option<ThreadRow> = on_pool!(self, pool => {
            sqlx::query_as::<_, ThreadRow>(concat!(
                "SELECT ", thread_columns!(), " FROM threads t LEFT JOIN organisations o ON o.id = t.org_id \
                 WHERE t.doc_id = $1 AND t.id = $2"
            ))
            .bind(doc.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else { return Ok(None) };
        let comments: Vec<CommentRow> = on_pool!(self, pool => {
            sqlx::query_as::<_, CommentRow>(concat!(
                "SELECT ", comment_columns!(), " FROM comments c LEFT JOIN organisations o ON o.id = c.org_id \
                 WHERE c.thread_id = $1 ORDER BY c.created_at, c.id"
            ))
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        let mut mentions = self.mentions(doc, Some(id)).await?;
        let comments = with_mentions(comments, &mut mentions);
        Ok(Some((row, comments)))
    }

    /// Every thread of a document with its comments, oldest first.
    pub async fn threads(
        &self,
        doc: &DocId,
    ) -> Result<Vec<(ThreadRow, Vec<CommentRow>)>, StoreError> {
        let (rows, comments): (Vec<ThreadRow>, Vec<CommentRow>) = on_pool!(self, pool => {
            let rows = sqlx::query_as::<_, ThreadRow>(concat!(
                "SELECT ", thread_columns!(), " FROM threads t LEFT JOIN organisations o ON o.id = t.org_id \
                 WHERE t.doc_id = $1 ORDER BY t.created_at, t.id"
            ))
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?;
            let comments = sqlx::query_as::<_, CommentRow>(concat!(
                "SELECT ", comment_columns!(), " FROM comments c JOIN threads t ON t.id = c.thread_id \
                 LEFT JOIN organisations o ON o.id = c.org_id WHERE t.doc_id = $1 ORDER BY c.created_at, c.id"
            ))
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?;
            (rows, comments)
        });
        let mut mentions = self.mentions(doc, None).await?;
        let mut by_thread: std::collections::HashMap<ThreadId, Vec<CommentRow>> =
            std::collections::HashMap::new();
        for comment in with_mentions(comments, &mut mentions) {
            by_thread
                .entry(comment.thread_id.clone())
                .or_default()
                .push(comment);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let comments = by_thread.remove(&row.id).unwrap_or_default();
                (row, comments)
            })
            .collect())
    }

    /// Every wording of a comment of `thread`, oldest first (the first is the text as
    /// received); empty if there is no such comment in that thread.
    pub async fn revisions(
        &self,
        thread: &ThreadId,
        comment: &CommentId,
    ) -> Result<Vec<RevisionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, RevisionRow>(
                "SELECT r.body, r.edited_at, r.edited_by, r.edited_by_name FROM comment_revisions r \
                 JOIN comments c ON c.id = r.comment_id WHERE c.thread_id = $1 AND r.comment_id = $2 \
                 ORDER BY r.seq",
            )
            .bind(thread)
            .bind(comment)
            .fetch_all(pool)
            .await?
        }))
    }
}

/// A thread as a change sees it once it holds the thread's row lock.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LockedThread {
    pub status: ThreadStatus,
    pub author_id: String,
    pub proposal: Option<String>,
}

/// A comment as a change checks it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentState {
    pub author_id: String,
    pub deleted_at: Option<i64>,
    pub sealed_at: Option<i64>,
}

/// A thread's decision claim (`comments::decisions`), read inside the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimRow {
    pub status: ThreadStatus,
    /// Until when (epoch ms) a decision under way holds the thread.
    pub decision_claim_until: Option<i64>,
    /// The Yjs client id the last acceptance wrote (or was to write) its edit under.
    pub decision_client: Option<i64>,
}

impl Tx {
    /// The decision claim on a thread of `doc`, `None` for no such thread.
    pub async fn decision_claim(
        &mut self,
        doc: &DocId,
        id: &ThreadId,
    ) -> Result<Option<ClaimRow>, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_as::<_, ClaimRow>(
                "SELECT status, decision_claim_until, decision_client FROM threads WHERE doc_id = $1 AND id = $2",
            )
            .bind(doc.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        }))
    }

    /// Sets (or, with `until` `None`, lifts) the decision claim on a thread. The client id
    /// is kept when the claim is lifted: the next decision checks whether it was stored.
    pub async fn set_decision_claim(
        &mut self,
        id: &ThreadId,
        until: Option<i64>,
        client: Option<u64>,
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "UPDATE threads SET decision_claim_until = $2, \
                 decision_client = COALESCE($3, decision_client) WHERE id = $1",
            )
            .bind(id)
            .bind(until)
            .bind(client.map(|c| c as i64))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Whether an update written under Yjs client id `client` is stored in `doc`: the
    /// journal binds each client id to its author in the transaction that stores the
    /// update writing under it first (`document_authors`).
    pub async fn client_wrote(&mut self, doc: &DocId, client: i64) -> Result<bool, StoreError> {
        let found: Option<(i64,)> = on_tx!(self, conn => {
            sqlx::query_as(
                "SELECT client_id FROM document_authors WHERE doc_id = $1 AND client_id = $2",
            )
            .bind(doc.as_str())
            .bind(client)
            .fetch_optional(&mut *conn)
            .await?
        });
        Ok(found.is_some())
    }
    /// Takes the thread's row lock (by touching `updated_at`) and reads its status, so a
    /// resolve and an edit of the same thread are ordered on both databases: whichever
    /// comes second sees what the first committed. `None` if the document has no such thread.
    pub async fn lock_thread(
        &mut self,
        doc: &DocId,
        id: &ThreadId,
    ) -> Result<Option<LockedThread>, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_as::<_, LockedThread>(
                "UPDATE threads SET updated_at = $3 WHERE doc_id = $1 AND id = $2 RETURNING status, author_id, proposal",
            )
            .bind(doc.as_str())
            .bind(id)
            .bind(now_ms())
            .fetch_optional(&mut *conn)
            .await?
        }))
    }

    /// A comment of `thread`, read inside the transaction.
    pub async fn comment_state(
        &mut self,
        thread: &ThreadId,
        id: &CommentId,
    ) -> Result<Option<CommentState>, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_as::<_, CommentState>(
                "SELECT author_id, deleted_at, sealed_at FROM comments WHERE thread_id = $1 AND id = $2",
            )
            .bind(thread)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
        }))
    }

    /// Opens a thread with its first comment.
    pub async fn insert_thread(&mut self, new: &NewThread<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO threads (id, doc_id, anchor_start, anchor_end, original_quote, original_paragraph, \
                 doc_version, author_id, author_name, org_id, stance, proposal, kind, status, created_at, updated_at, block_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, 'open', $13, $13, $15)",
            )
            .bind(new.id)
            .bind(new.doc.as_str())
            .bind(new.anchor_start)
            .bind(new.anchor_end)
            .bind(new.quote)
            .bind(new.paragraph.unwrap_or(0))
            .bind(new.doc_version)
            .bind(new.author.id)
            .bind(new.author.name)
            .bind(new.author.org)
            .bind(new.stance)
            .bind(new.proposal)
            .bind(now)
            .bind(new.kind)
            .bind(new.block)
            .execute(&mut *conn)
            .await?;
        });
        self.add_comment(new.comment_id, new.id, &new.author, new.body, now)
            .await
    }

    /// Adds a reply.
    pub async fn insert_comment(
        &mut self,
        id: &CommentId,
        thread: &ThreadId,
        author: &Author<'_>,
        body: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.add_comment(id, thread, author, body, now).await?;
        on_tx!(self, conn => {
            sqlx::query("UPDATE threads SET updated_at = $2 WHERE id = $1")
                .bind(thread)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// A comment row and its first revision, the text as received.
    async fn add_comment(
        &mut self,
        id: &CommentId,
        thread: &ThreadId,
        author: &Author<'_>,
        body: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO comments (id, thread_id, author_id, author_name, org_id, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(thread)
            .bind(author.id)
            .bind(author.name)
            .bind(author.org)
            .bind(body)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        });
        self.add_revision(id, body, author, now).await?;
        Ok(())
    }

    /// Appends a wording of a comment; returns its number (1 for the text as received).
    async fn add_revision(
        &mut self,
        comment: &CommentId,
        body: &str,
        by: &Author<'_>,
        at: i64,
    ) -> Result<i64, StoreError> {
        Ok(on_tx!(self, conn => {
            let (seq,): (i64,) = sqlx::query_as(
                "INSERT INTO comment_revisions (comment_id, seq, body, edited_at, edited_by, edited_by_name) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5 FROM comment_revisions WHERE comment_id = $1 \
                 RETURNING seq",
            )
            .bind(comment)
            .bind(body)
            .bind(at)
            .bind(by.id)
            .bind(by.name)
            .fetch_one(&mut *conn)
            .await?;
            seq
        }))
    }

    /// A new wording of a comment: a revision is added and the comment shows it; the
    /// earlier ones stay. Returns the revision's number.
    pub async fn revise_comment(
        &mut self,
        id: &CommentId,
        body: &str,
        by: &Author<'_>,
    ) -> Result<i64, StoreError> {
        let now = now_ms();
        let seq = self.add_revision(id, body, by, now).await?;
        on_tx!(self, conn => {
            sqlx::query("UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1")
                .bind(id)
                .bind(body)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        });
        Ok(seq)
    }

    /// Withdraws a comment: marked deleted, by whom and when; its text is kept for the
    /// owners and the author's organisation (see `comments::revisions`).
    pub async fn withdraw_comment(
        &mut self,
        id: &CommentId,
        by: &Author<'_>,
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "UPDATE comments SET deleted_at = $2, deleted_by = $3, deleted_by_name = $4 \
                 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(now_ms())
            .bind(by.id)
            .bind(by.name)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Records a resolution and seals the thread's comments: what was decided on cannot
    /// be changed afterwards, even when the thread is reopened.
    pub async fn resolve_thread(
        &mut self,
        id: &ThreadId,
        outcome: Outcome,
        motivation: &str,
        by: &Author<'_>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_tx!(self, conn => {
            sqlx::query(
                "UPDATE threads SET status = 'resolved', outcome = $2, motivation = $3, resolved_by = $4, \
                 resolved_by_name = $5, resolved_at = $6, updated_at = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(outcome)
            .bind(motivation)
            .bind(by.id)
            .bind(by.name)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE comments SET sealed_at = $2 WHERE thread_id = $1 AND sealed_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// Opens a resolved thread again; the old resolution is cleared from the thread (the
    /// audit trail keeps it) and its comments stay sealed.
    pub async fn reopen_thread(&mut self, id: &ThreadId) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "UPDATE threads SET status = 'open', outcome = NULL, motivation = NULL, resolved_by = NULL, \
                 resolved_by_name = NULL, resolved_at = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Moves a thread to a new range (its original quote stays).
    pub async fn set_thread_anchor(
        &mut self,
        id: &ThreadId,
        start: &[u8],
        end: &[u8],
    ) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query("UPDATE threads SET anchor_start = $2, anchor_end = $3, updated_at = $4 WHERE id = $1")
                .bind(id)
                .bind(start)
                .bind(end)
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }
}
