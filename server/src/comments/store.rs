//! SQL for threads and comments.

use crate::comments::model::{CommentRow, Outcome, Stance, ThreadRow};
use crate::ids::DocId;
use crate::on_pool;
use crate::storage::{BeginWrite, Db, StoreError, now_ms};

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
         t.status, t.outcome, t.motivation, t.resolved_by, t.resolved_by_name, t.resolved_at, \
         t.created_at, t.updated_at, \
         (SELECT v.id FROM versions v WHERE ", saved_before_thread!(), ") AS named_version_id, \
         (SELECT v.name FROM versions v WHERE ", saved_before_thread!(), ") AS named_version_name")
    };
}

/// The columns of a [`CommentRow`].
macro_rules! comment_columns {
    () => {
        "c.id, c.thread_id, c.author_id, c.author_name, c.org_id, o.name AS org_name, c.body, \
         c.created_at, c.edited_at, c.deleted_at"
    };
}

/// Inserts a comment row with whichever executor (pool or transaction) is at hand; a
/// macro because the statement is the same for both backends but the executor types differ.
macro_rules! insert_comment {
    ($executor:expr, $id:expr, $thread:expr, $author:expr, $body:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO comments (id, thread_id, author_id, author_name, org_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($thread)
        .bind($author.id)
        .bind($author.name)
        .bind($author.org)
        .bind($body)
        .bind($now)
        .execute($executor)
        .await
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
    pub id: &'a str,
    pub comment_id: &'a str,
    pub doc: &'a DocId,
    pub anchor_start: &'a [u8],
    pub anchor_end: &'a [u8],
    pub quote: &'a str,
    pub paragraph: i64,
    pub doc_version: &'a [u8],
    pub author: Author<'a>,
    pub stance: Option<Stance>,
    pub proposal: Option<&'a str>,
    pub body: &'a str,
}

impl Db {
    /// Opens a thread with its first comment, in one transaction.
    pub async fn insert_thread(&self, new: &NewThread<'_>) -> Result<(), StoreError> {
        let now = now_ms();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO threads (id, doc_id, anchor_start, anchor_end, original_quote, original_paragraph, \
                 doc_version, author_id, author_name, org_id, stance, proposal, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $13)",
            )
            .bind(new.id)
            .bind(new.doc.as_str())
            .bind(new.anchor_start)
            .bind(new.anchor_end)
            .bind(new.quote)
            .bind(new.paragraph)
            .bind(new.doc_version)
            .bind(new.author.id)
            .bind(new.author.name)
            .bind(new.author.org)
            .bind(new.stance.map(Stance::as_str))
            .bind(new.proposal)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_comment!(&mut *tx, new.comment_id, new.id, new.author, new.body, now)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// One thread of a document, with its comments.
    pub async fn thread(
        &self,
        doc: &DocId,
        id: &str,
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
        let mut by_thread: std::collections::HashMap<String, Vec<CommentRow>> =
            std::collections::HashMap::new();
        for comment in comments {
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

    /// Adds a reply.
    pub async fn insert_comment(
        &self,
        id: &str,
        thread: &str,
        author: &Author<'_>,
        body: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_comment!(&mut *tx, id, thread, author, body, now)?;
            sqlx::query("UPDATE threads SET updated_at = $2 WHERE id = $1").bind(thread).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces a comment's text.
    pub async fn edit_comment(&self, thread: &str, id: &str, body: &str) -> Result<(), StoreError> {
        self.change_comment(
            thread,
            id,
            "UPDATE comments SET body = $2, edited_at = $3 WHERE id = $1",
            body,
        )
        .await
    }

    /// Deletes a comment: the row stays (the thread's history keeps its place) without its text.
    pub async fn delete_comment(&self, thread: &str, id: &str) -> Result<(), StoreError> {
        self.change_comment(
            thread,
            id,
            "UPDATE comments SET body = $2, deleted_at = $3 WHERE id = $1",
            "",
        )
        .await
    }

    async fn change_comment(
        &self,
        thread: &str,
        id: &str,
        sql: &'static str,
        body: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(sql).bind(id).bind(body).bind(now).execute(&mut *tx).await?;
            sqlx::query("UPDATE threads SET updated_at = $2 WHERE id = $1").bind(thread).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Records a resolution.
    pub async fn resolve_thread(
        &self,
        id: &str,
        outcome: Outcome,
        motivation: &str,
        by: &Author<'_>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE threads SET status = 'resolved', outcome = $2, motivation = $3, resolved_by = $4, \
                 resolved_by_name = $5, resolved_at = $6, updated_at = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(outcome.as_str())
            .bind(motivation)
            .bind(by.id)
            .bind(by.name)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Opens a resolved thread again; the old resolution is cleared.
    pub async fn reopen_thread(&self, id: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE threads SET status = 'open', outcome = NULL, motivation = NULL, resolved_by = NULL, \
                 resolved_by_name = NULL, resolved_at = NULL, updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Moves a thread to a new range.
    pub async fn set_thread_anchor(
        &self,
        id: &str,
        start: &[u8],
        end: &[u8],
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE threads SET anchor_start = $2, anchor_end = $3, updated_at = $4 WHERE id = $1")
                .bind(id)
                .bind(start)
                .bind(end)
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
