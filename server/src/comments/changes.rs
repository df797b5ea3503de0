//! Every change to a thread as one use case in one transaction: its checks, its rows, its
//! audit entry (with the webhook deliveries that entry causes) and the invitee's
//! first-activity mark commit together or not at all. Opening a thread used to be five
//! separate commits, and a crash between them left a thread without its audit entry.
//!
//! Each function takes the caller's [`Tx`] and leaves the commit to it; handlers extract
//! the request, begin, call, commit and present. A function that touches an existing
//! thread first takes its row lock ([`Tx::lock_thread`]), so a resolve and an edit of the
//! same thread are ordered and the second sees what the first decided.
//!
//! The record's rules live here: a comment in a resolved thread, or one that was in it
//! when it was resolved (sealed), cannot be edited or deleted (409 `thread_resolved`;
//! reopening a thread allows new replies, not changes to what was decided on); after the
//! svarsdatum or in `avslutad` the deadline rule applies ([`deadline::check_open`]).

use serde_json::json;

use crate::audit::{self, Action};
use crate::auth::{Identity, Role};
use crate::comments::model::{Outcome, ThreadStatus};
use crate::comments::store::{Author, CommentState, LockedThread, NewThread};
use crate::error::{ApiResult, AppError};
use crate::ids::{CommentId, DocId, ThreadId};
use crate::remiss::deadline::{self, Contribution};
use crate::remiss::store::FirstMoment;
use crate::storage::Tx;

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
        audit::record_in(tx, self.doc, Some(self.who), action, detail).await?;
        Ok(())
    }
}

/// Opens a thread with its first comment (the caller has resolved the anchor).
pub async fn open_thread(
    tx: &mut Tx,
    who: &Identity,
    role: Role,
    new: &NewThread<'_>,
    detail: serde_json::Value,
) -> ApiResult<()> {
    deadline::check_open(tx, new.doc, role, Contribution::Thread).await?;
    tx.ensure_user(&who.user, &who.name, &who.org).await?;
    tx.insert_thread(new).await?;
    audit::record_in(tx, new.doc, Some(who), Action::ThreadOpened, detail).await?;
    tx.record_first(new.doc, &who.org, FirstMoment::Commented)
        .await?;
    Ok(())
}

/// Adds a reply to a thread.
pub async fn reply(
    tx: &mut Tx,
    on: Change<'_>,
    comment_id: &CommentId,
    body: &str,
) -> ApiResult<()> {
    on.lock(tx).await?;
    deadline::check_open(tx, on.doc, on.role, Contribution::Reply).await?;
    let who = on.who;
    tx.ensure_user(&who.user, &who.name, &who.org).await?;
    tx.insert_comment(comment_id, on.thread, &author(who), body)
        .await?;
    let detail = json!({"thread": on.thread, "comment": comment_id});
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
    deadline::check_open(tx, on.doc, on.role, what).await
}

/// Edits one's own comment: a new revision; the earlier wordings stay. Returns the
/// revision's number.
pub async fn edit_comment(
    tx: &mut Tx,
    on: Change<'_>,
    comment_id: &CommentId,
    body: &str,
) -> ApiResult<i64> {
    changeable(tx, on, comment_id, Contribution::Edit).await?;
    let revision = tx.revise_comment(comment_id, body, &author(on.who)).await?;
    let detail = json!({"thread": on.thread, "comment": comment_id, "revision": revision});
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
pub async fn accept_proposal(
    tx: &mut Tx,
    on: Change<'_>,
    moved: (&[u8], &[u8]),
    motivation: &str,
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
    on.audit(tx, Action::ProposalAccepted, detail.clone())
        .await?;
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
    deadline::check_open(tx, on.doc, on.role, Contribution::Reanchor).await?;
    tx.set_thread_anchor(on.thread, start, end).await?;
    on.audit(tx, Action::ThreadReanchored, json!({"thread": on.thread}))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
