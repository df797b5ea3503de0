//! Every change to a thread as one use case in one transaction: its checks, its rows, its
//! audit entry (with the webhook deliveries that entry causes) and the invitee's
//! first-activity mark commit together or not at all. Opening a thread used to be five
//! separate commits, and a crash between them left a thread without its audit entry.
//!
//! Each function takes the caller's [`Tx`] and leaves the commit to it; handlers extract
//! the request, begin, call, commit and present, and the demo seeder (`demo`) calls the
//! same functions, so no caller repeats a use case. A function that touches an existing
//! thread first takes its row lock ([`Tx::lock_thread`]), so a resolve and an edit of the
//! same thread are ordered and the second sees what the first decided.
//!
//! The record's rules live here: a comment in a resolved thread, or one that was in it
//! when it was resolved (sealed), cannot be edited or deleted (409 `thread_resolved`;
//! reopening a thread allows new replies, not changes to what was decided on); after the
//! svarsdatum or in `avslutad` the deadline rule applies ([`deadline::check_open`]).

use serde_json::json;

use crate::audit::Action;
use crate::auth::{Identity, Role};
use crate::comments::mentions::{self, Mention};
use crate::comments::model::{Outcome, Stance, ThreadStatus};
use crate::comments::store::{Author, CommentState, LockedThread, NewThread};
use crate::consultation::deadline::{self, Contribution};
use crate::consultation::store::FirstMoment;
use crate::error::{ApiResult, AppError};
use crate::ids::{CommentId, DocId, ThreadId};
use crate::storage::Tx;
use crate::webhooks;

/// Who writes something, as the store records it.
pub fn author(who: &Identity) -> Author<'_> {
    Author {
        id: who.user.as_str(),
        name: &who.name,
        org: who.org.as_str(),
    }
}

/// Why a comment's text can no longer change, if it cannot: it is part of a decision.
pub fn frozen(thread_status: ThreadStatus, comment: &CommentState) -> Option<&'static str> {
    if thread_status == ThreadStatus::Resolved {
        Some("the thread is resolved: its comments are part of the decision and stay as they are")
    } else if comment.sealed_at.is_some() {
        Some(
            "the comment was part of the thread when it was resolved; reopening allows new replies, \
             not changes to what was decided on",
        )
    } else {
        None
    }
}

/// Who changes which thread of which document, with their role on the document.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub doc: &'a DocId,
    pub who: &'a Identity,
    pub role: Role,
    pub thread: &'a ThreadId,
}

impl<'a> Change<'a> {
    /// A change by `who` (with `role` on `doc`) to thread `thread`.
    pub fn new(doc: &'a DocId, who: &'a Identity, role: Role, thread: &'a ThreadId) -> Self {
        Self {
            doc,
            who,
            role,
            thread,
        }
    }

    /// Takes the thread's row lock; 404 if the document has no such thread.
    async fn lock(&self, tx: &mut Tx) -> ApiResult<LockedThread> {
        tx.lock_thread(self.doc, self.thread)
            .await?
            .ok_or_else(|| AppError::NotFound("no such thread".into()))
    }

    /// Appends the change's audit entry inside `tx`.
    async fn audit(&self, tx: &mut Tx, action: Action, detail: serde_json::Value) -> ApiResult<()> {
        webhooks::record_in(tx, self.doc, Some(self.who), action, detail).await?;
        Ok(())
    }
}

/// The stance a new thread takes. Any stance may carry a proposal (an organisation may
/// support a passage and still propose a better wording, issue 16); a proposal without a
/// stance implies `andringsforslag`.
pub fn stance_with(stance: Option<Stance>, proposal: Option<&str>) -> Option<Stance> {
    match (stance, proposal) {
        (None, Some(_)) => Some(Stance::Andringsforslag),
        (stance, _) => stance,
    }
}

/// Opens a thread with its first comment (the caller has resolved the anchor), written by
/// `who` (`new.author`) with `role` on the document, @mentioning `mentioned` (each must
/// be a member: 422 otherwise).
pub async fn open_thread(
    tx: &mut Tx,
    who: &Identity,
    role: Role,
    new: &NewThread<'_>,
    mentioned: &[Mention],
) -> ApiResult<()> {
    deadline::check_open(tx, new.doc, &who.org, role, Contribution::Thread).await?;
    tx.check_mentionable(new.doc, mentioned).await?;
    tx.ensure_user(&who.user, &who.name, &who.org).await?;
    tx.insert_thread(new).await?;
    let added = tx.record_mentions(new.comment_id, mentioned).await?;
    let mut detail = json!({"thread": new.id, "stance": new.stance, "paragraph": new.paragraph,
        "quote": new.quote, "proposal": new.proposal});
    with_mentions(&mut detail, &added);
    webhooks::record_in(tx, new.doc, Some(who), Action::ThreadOpened, detail).await?;
    tx.record_first(new.doc, &who.org, FirstMoment::Commented)
        .await?;
    Ok(())
}

/// The audit detail's `mentions`: the principals a comment newly @mentions, which
/// `notifications::raise` tells. Absent when there are none, so entries without mentions
/// read as they always did.
fn with_mentions(detail: &mut serde_json::Value, added: &[Mention]) {
    if !added.is_empty()
        && let Some(detail) = detail.as_object_mut()
    {
        detail.insert("mentions".into(), mentions::to_json(added));
    }
}

/// Adds a reply to a thread, @mentioning `mentioned` (each must be a member: 422 otherwise).
pub async fn reply(
    tx: &mut Tx,
    on: Change<'_>,
    comment_id: &CommentId,
    body: &str,
    mentioned: &[Mention],
) -> ApiResult<()> {
    on.lock(tx).await?;
    deadline::check_open(tx, on.doc, &on.who.org, on.role, Contribution::Reply).await?;
    tx.check_mentionable(on.doc, mentioned).await?;
    let who = on.who;
    tx.ensure_user(&who.user, &who.name, &who.org).await?;
    tx.insert_comment(comment_id, on.thread, &author(who), body)
        .await?;
    let added = tx.record_mentions(comment_id, mentioned).await?;
    let mut detail = json!({"thread": on.thread, "comment": comment_id});
    with_mentions(&mut detail, &added);
    on.audit(tx, Action::CommentAdded, detail).await?;
    tx.record_first(on.doc, &who.org, FirstMoment::Commented)
        .await?;
    Ok(())
}

/// Checks that the caller may change the comment now: it exists in the thread and is not
/// withdrawn (404), it is the caller's (403), it is not part of a decision (409
/// `thread_resolved`) and the round still takes the change (409 `remiss_closed`).
async fn changeable(
    tx: &mut Tx,
    on: Change<'_>,
    comment_id: &CommentId,
    what: Contribution,
) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    let comment = tx
        .comment_state(on.thread, comment_id)
        .await?
        .filter(|c| c.deleted_at.is_none())
        .ok_or_else(|| AppError::NotFound("no such comment".into()))?;
    if comment.author_id != on.who.user.as_str() {
        return Err(AppError::Forbidden(
            "only its author may change a comment".into(),
        ));
    }
    if let Some(why) = frozen(thread.status, &comment) {
        return Err(AppError::ThreadResolved(why.into()));
    }
    deadline::check_open(tx, on.doc, &on.who.org, on.role, what).await
}

/// Edits one's own comment: a new revision; the earlier wordings stay. `mentioned` is
/// whom the new wording @mentions; only those no earlier wording mentioned are told.
/// Returns the revision's number.
pub async fn edit_comment(
    tx: &mut Tx,
    on: Change<'_>,
    comment_id: &CommentId,
    body: &str,
    mentioned: &[Mention],
) -> ApiResult<i64> {
    changeable(tx, on, comment_id, Contribution::Edit).await?;
    tx.check_mentionable(on.doc, mentioned).await?;
    let revision = tx.revise_comment(comment_id, body, &author(on.who)).await?;
    let added = tx.record_mentions(comment_id, mentioned).await?;
    let mut detail = json!({"thread": on.thread, "comment": comment_id, "revision": revision});
    with_mentions(&mut detail, &added);
    on.audit(tx, Action::CommentEdited, detail).await?;
    Ok(revision)
}

/// Withdraws one's own comment: hidden from others, kept with who and when.
pub async fn delete_comment(tx: &mut Tx, on: Change<'_>, comment_id: &CommentId) -> ApiResult<()> {
    changeable(tx, on, comment_id, Contribution::Delete).await?;
    tx.withdraw_comment(comment_id, &author(on.who)).await?;
    let detail = json!({"thread": on.thread, "comment": comment_id});
    on.audit(tx, Action::CommentDeleted, detail).await
}

/// Resolves a thread with an outcome and a motivation (the caller is an owner), sealing
/// its comments.
pub async fn resolve_thread(
    tx: &mut Tx,
    on: Change<'_>,
    outcome: Outcome,
    motivation: &str,
) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    if thread.status == ThreadStatus::Resolved {
        return Err(AppError::Conflict(
            "the thread is already resolved; reopen it first".into(),
        ));
    }
    tx.resolve_thread(on.thread, outcome, motivation, &author(on.who))
        .await?;
    let detail = json!({"thread": on.thread, "outcome": outcome, "motivation": motivation});
    on.audit(tx, Action::ThreadResolved, detail).await
}

/// Records an accepted change proposal (the caller is an owner, and the room has already
/// replaced the anchored text with the proposal): the thread's anchor moves to the new
/// text and it is resolved as `beaktad`, with both audit entries, in one transaction.
/// A thread resolved by someone else since the check before the edit is a conflict, never
/// overwritten: a decision once recorded stands.
/// `written_by` is the organisation the applied text is attributed to (the thread's).
pub async fn accept_proposal(
    tx: &mut Tx,
    on: Change<'_>,
    moved: (&[u8], &[u8]),
    motivation: &str,
    written_by: &str,
) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    if thread.status != ThreadStatus::Open {
        return Err(AppError::Conflict("the thread is already resolved".into()));
    }
    tx.set_thread_anchor(on.thread, moved.0, moved.1).await?;
    let outcome = Outcome::Beaktad;
    tx.resolve_thread(on.thread, outcome, motivation, &author(on.who))
        .await?;
    let detail = json!({"thread": on.thread, "outcome": outcome, "motivation": motivation});
    let accepted = json!({"thread": on.thread, "outcome": outcome, "motivation": motivation,
        "writtenBy": written_by});
    on.audit(tx, Action::ProposalAccepted, accepted).await?;
    on.audit(tx, Action::ThreadResolved, detail).await
}

/// Rejects a thread's change proposal with a motivation (the caller is an owner): the
/// thread is resolved as `ej_beaktad`, with both audit entries, in one transaction.
pub async fn reject_proposal(tx: &mut Tx, on: Change<'_>, motivation: &str) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    if thread.proposal.is_none() {
        return Err(AppError::Conflict("the thread carries no proposal".into()));
    }
    if thread.status != ThreadStatus::Open {
        return Err(AppError::Conflict("the thread is already resolved".into()));
    }
    let outcome = Outcome::EjBeaktad;
    tx.resolve_thread(on.thread, outcome, motivation, &author(on.who))
        .await?;
    let detail = json!({"thread": on.thread, "outcome": outcome, "motivation": motivation});
    on.audit(tx, Action::ProposalRejected, detail.clone())
        .await?;
    on.audit(tx, Action::ThreadResolved, detail).await
}

/// Opens a resolved thread again (the caller is an owner).
pub async fn reopen_thread(tx: &mut Tx, on: Change<'_>) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    if thread.status == ThreadStatus::Open {
        return Err(AppError::Conflict("the thread is open".into()));
    }
    tx.reopen_thread(on.thread).await?;
    on.audit(tx, Action::ThreadReopened, json!({"thread": on.thread}))
        .await
}

/// Moves a thread to a new range (owners, or the thread's author while the round takes
/// changes); the caller has checked the range against the document.
pub async fn reanchor_thread(
    tx: &mut Tx,
    on: Change<'_>,
    start: &[u8],
    end: &[u8],
) -> ApiResult<()> {
    let thread = on.lock(tx).await?;
    if on.role != Role::Owner && thread.author_id != on.who.user.as_str() {
        return Err(AppError::Forbidden(
            "only owners and the thread's author may move it".into(),
        ));
    }
    deadline::check_open(tx, on.doc, &on.who.org, on.role, Contribution::Reanchor).await?;
    tx.set_thread_anchor(on.thread, start, end).await?;
    on.audit(tx, Action::ThreadReanchored, json!({"thread": on.thread}))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comments::store::NewThread;
    use crate::ids::{CommentId, OrgId, ThreadId, UserId};
    use crate::on_tx;
    use crate::storage::Db;

    /// A fresh SQLite database with one document of `who`'s organisation and one open
    /// thread on it, opened through [`open_thread`].
    async fn one_thread(dir: &tempfile::TempDir, who: &Identity) -> (Db, DocId, ThreadId) {
        // The process signs its audit entries with one key; any key will do here, so one
        // another test installed first is kept.
        let key = crate::audit::key::AuditKey::new(&[7; 32], "test").expect("key");
        let _ = crate::audit::key::install(key);
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.expect("db");
        db.upsert_org(&who.org, "Förvaltningen").await.expect("org");
        db.ensure_user(&who.user, &who.name, &who.org)
            .await
            .expect("user");
        let doc = DocId::parse("d").expect("id");
        let mut tx = db.transaction_for(&doc).await.expect("begin");
        crate::documents::changes::create(&mut tx, &doc, who, "Utkast", None)
            .await
            .expect("document");
        tx.commit().await.expect("created");
        let thread = ThreadId::generate();
        let new = NewThread {
            id: &thread,
            comment_id: &CommentId::generate(),
            doc: &doc,
            anchor_start: &[],
            anchor_end: &[],
            quote: "text",
            paragraph: Some(0),
            block: None,
            doc_version: &[],
            author: author(who),
            stance: Some(Stance::Avstyrker),
            proposal: None,
            kind: crate::comments::model::ThreadKind::Comment,
            body: "Nej.",
        };
        let mut tx = db.transaction_for(&doc).await.expect("tx");
        open_thread(&mut tx, who, Role::Owner, &new, &[])
            .await
            .expect("opened");
        tx.commit().await.expect("commit");
        (db, doc, thread)
    }

    fn anna() -> Identity {
        Identity {
            user: UserId::parse("anna").expect("id"),
            name: "Anna".into(),
            org: OrgId::parse("slk").expect("id"),
        }
    }

    #[tokio::test]
    async fn a_thread_reads_back_with_its_typed_values() {
        let dir = tempfile::tempdir().expect("dir");
        let who = anna();
        let (db, doc, thread) = one_thread(&dir, &who).await;
        let mut tx = db.transaction_for(&doc).await.expect("tx");
        let on = Change::new(&doc, &who, Role::Owner, &thread);
        resolve_thread(&mut tx, on, Outcome::DelvisBeaktad, "Delvis.")
            .await
            .expect("resolved");
        tx.commit().await.expect("commit");
        let (row, comments) = db.thread(&doc, &thread).await.expect("read").expect("row");
        assert_eq!(row.status, ThreadStatus::Resolved);
        assert_eq!(row.outcome, Some(Outcome::DelvisBeaktad));
        assert_eq!(row.stance, Some(Stance::Avstyrker));
        assert_eq!((row.id, comments.len()), (thread, 1));
    }

    #[tokio::test]
    async fn an_unknown_stored_status_is_an_error_never_a_default() {
        let dir = tempfile::tempdir().expect("dir");
        let who = anna();
        let (db, doc, thread) = one_thread(&dir, &who).await;
        // A word this version does not know, as a later migration might write it (the
        // CHECK constraint is lifted for the test only).
        let mut tx = db.transaction().await.expect("tx");
        on_tx!(tx, conn => {
            sqlx::query("PRAGMA ignore_check_constraints = ON").execute(&mut *conn).await.expect("pragma");
            sqlx::query("UPDATE threads SET status = 'archived', outcome = 'maybe' WHERE id = $1")
                .bind(&thread)
                .execute(&mut *conn)
                .await
                .expect("update");
            sqlx::query("PRAGMA ignore_check_constraints = OFF").execute(&mut *conn).await.expect("pragma");
        });
        tx.commit().await.expect("commit");

        let read = db.thread(&doc, &thread).await;
        assert!(
            matches!(
                read,
                Err(crate::storage::StoreError::Database(
                    sqlx::Error::ColumnDecode { .. }
                ))
            ),
            "{read:?}"
        );
        // A change on it stops before it writes anything: 500, not "reopen it first".
        let mut tx = db.transaction_for(&doc).await.expect("tx");
        let on = Change::new(&doc, &who, Role::Owner, &thread);
        let refused = reopen_thread(&mut tx, on).await;
        assert!(matches!(refused, Err(AppError::Storage(_))), "{refused:?}");
    }

    fn comment(sealed_at: Option<i64>) -> CommentState {
        CommentState {
            author_id: "sara".into(),
            deleted_at: None,
            sealed_at,
        }
    }

    #[test]
    fn decided_comments_are_frozen_and_reopening_frees_only_new_ones() {
        assert!(frozen(ThreadStatus::Resolved, &comment(None)).is_some());
        assert!(frozen(ThreadStatus::Resolved, &comment(Some(1))).is_some());
        // Reopened: what was decided on stays, a reply written since may change.
        assert!(frozen(ThreadStatus::Open, &comment(Some(1))).is_some());
        assert!(frozen(ThreadStatus::Open, &comment(None)).is_none());
    }
}
