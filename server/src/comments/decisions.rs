//! One decision on a document's proposals at a time (on this node).
//!
//! Accepting a proposal is two steps: the room applies the edit, then a transaction
//! resolves the thread. Two owners accepting the same suggestion at once (or a bulk
//! accept racing a single one) could both pass the room's check before either resolved
//! the thread, and an insertion, whose collapsed anchor stays `attached`, would then be
//! inserted twice. The room cannot see the thread's status and the transaction cannot
//! be held open across the room's own journal commit (SQLite allows one writer), so the
//! decisions on one document are serialised here instead: each takes the document's
//! lock, re-reads the thread, and finds it resolved if another decision won.
//!
//! Nodes of a cluster each have their own lock, so across nodes a decision also claims
//! the thread in the database ([`claim`]) before the room edit: one transaction, under
//! the document's lock (`Tx::lock_document`, an advisory lock on PostgreSQL), finds the
//! thread open and unclaimed, and records a lease and the Yjs client id the edit will be
//! written under. A second decision, on any node, then finds the claim and answers 409.
//! The claim ends with the transaction that resolves the thread, or is lifted when the
//! edit was not made. A node that dies holding a claim leaves it to expire ([`LEASE`]);
//! the next decision then asks whether the dead node's edit was stored (its client id
//! is bound in `document_authors` in the very transaction that stores it) and, if so,
//! records the acceptance without editing again. The edit itself refuses to be made
//! once [`EDIT_WINDOW`] has passed since the claim, well inside the lease, so an edit
//! stuck in a busy room cannot land after another node took the thread over. See
//! docs/REMISS.md, "One decision at a time".

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

use crate::comments::model::ThreadStatus;
use crate::error::{ApiResult, AppError};
use crate::ids::{DocId, ThreadId};
use crate::storage::{Tx, now_ms};

/// How long a claim holds a thread. Far longer than a decision takes (a room edit and
/// two short transactions, milliseconds), so only a dead node's claim ever expires.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long after its claim a decision's edit may still be made: half the lease, so the
/// edit's commit is long done (or never happens) before the claim can be taken over.
pub const EDIT_WINDOW: Duration = Duration::from_secs(30);

/// What a claim found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    /// The thread is this decision's: write the edit under `client` before `deadline`.
    Fresh { client: u64, deadline: Instant },
    /// An earlier acceptance's edit was stored but its node died before recording it:
    /// record the acceptance now, without editing.
    AlreadyApplied,
}

/// Claims `thread` of `doc` for a decision inside `tx` (begun with
/// `Db::transaction_for`, so claims on the document are serialised on every node); the
/// caller commits before the room edit. 409 when the thread is resolved or another
/// decision holds it.
pub async fn claim(tx: &mut Tx, doc: &DocId, thread: &ThreadId) -> ApiResult<Claimed> {
    let row = tx
        .decision_claim(doc, thread)
        .await?
        .ok_or_else(|| AppError::NotFound("no such thread".into()))?;
    if row.status != ThreadStatus::Open {
        return Err(AppError::Conflict("the thread is already resolved".into()));
    }
    let now = now_ms();
    if row.decision_claim_until.is_some_and(|until| until > now) {
        return Err(AppError::Conflict(
            "another owner is deciding this thread right now".into(),
        ));
    }
    if let Some(earlier) = row.decision_client
        && tx.client_wrote(doc, earlier).await?
    {
        return Ok(Claimed::AlreadyApplied);
    }
    let client = fresh_client();
    let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    tx.set_decision_claim(thread, Some(now.saturating_add(lease)), Some(client))
        .await?;
    Ok(Claimed::Fresh {
        client,
        deadline: Instant::now() + EDIT_WINDOW,
    })
}

/// A Yjs client id never used in any document: the random one a new `Doc` draws (53
/// bits, as Yjs's own), so a client bound to someone else is as unlikely as in Yjs.
fn fresh_client() -> u64 {
    crate::sync::crdt::new_doc().client_id().get()
}

/// The per-document decision locks of this node.
#[derive(Debug, Default)]
pub struct Decisions {
    locks: Mutex<HashMap<DocId, Weak<tokio::sync::Mutex<()>>>>,
}

impl Decisions {
    /// Waits for the document's decision lock; it is released when the guard drops.
    pub async fn lock(&self, doc: &DocId) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            // Locks nobody holds or waits for are dropped, so the map stays as small as
            // the number of decisions under way.
            locks.retain(|_, lock| lock.strong_count() > 0);
            match locks.get(doc).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    locks.insert(doc.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_decision_on_a_document_waits_for_the_first() {
        let decisions = Decisions::default();
        let doc = DocId::parse("d").expect("id");
        let first = decisions.lock(&doc).await;
        let other = DocId::parse("e").expect("id");
        // Another document is not held up.
        drop(decisions.lock(&other).await);
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), decisions.lock(&doc));
        assert!(waiting.await.is_err(), "the lock was taken twice");
        drop(first);
        drop(decisions.lock(&doc).await);
    }
}
