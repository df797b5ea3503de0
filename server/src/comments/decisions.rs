//! One decision on a document's proposals at a time (on this node).
//!
//! Accepting a proposal is two steps: the room applies the edit, then a transaction
//! resolves the thread. Two owners accepting the same suggestion at once (or a bulk
//! accept racing a single one) could both pass the room's check before either resolved
//! the thread, and an insertion, whose collapsed anchor stays `attached`, would then be
//! inserted twice. The room cannot see the thread's status and the transaction cannot
//! be held open across the room's own journal commit (SQLite allows one writer), so the
//! decisions on one document are serialised here instead: each takes the document's
//! lock, re-reads the thread, and finds it resolved if another decision won. Nodes of a
//! cluster each have their own lock; see docs/REMISS.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::ids::DocId;

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
