//! What a room needs of the update log, as a trait: the SQL [`Journal`] serves it, and
//! [`MemoryLog`] serves the room's unit tests.
//!
//! The room's promise (an update is stored before it is relayed, and a reloaded room
//! holds exactly what was stored) is about the order of calls on this trait, not about
//! SQL. Behind the trait the room can be driven deterministically, without a database
//! or a port: `MemoryLog` can hold its writes until a test releases them, which is how
//! the tests see that nothing is relayed before its commit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;

use crate::ids::DocId;
use crate::storage::StoreError;
use crate::storage::authorship::{Authored, Binding};
use crate::storage::journal::{CatchUp, Journal, StoredDoc};
use crate::storage::snapshot::Snapshot;

/// Resolves with the document's new head sequence number once an append is durable.
pub type Durable = oneshot::Receiver<Result<i64, StoreError>>;

/// The append-only log of every document, as the room uses it.
pub trait UpdateLog: Send + Sync + 'static {
    /// A document's snapshot and log; `None` if there is no such document.
    fn load<'a>(&'a self, doc: &'a DocId) -> BoxFuture<'a, Result<Option<StoredDoc>, StoreError>>;

    /// Queues `updates` for the next commit with who wrote each (`authored[i]` is
    /// `updates[i]`'s); the receiver resolves once they are durable, or with
    /// [`StoreError::ClientIdTaken`] when one writes under another user's client id.
    fn submit_append(
        &self,
        doc: DocId,
        updates: Vec<Bytes>,
        authored: Vec<Authored>,
    ) -> BoxFuture<'_, Result<Durable, StoreError>>;

    /// Replaces the log up to `upto_seq` with `snapshot`, which holds every update up to
    /// and including that sequence number.
    fn compact(
        &self,
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// What was stored after `after`, with the snapshot if the log was compacted past it.
    fn read_after<'a>(
        &'a self,
        doc: &'a DocId,
        after: i64,
    ) -> BoxFuture<'a, Result<CatchUp, StoreError>>;

    /// Moves the entries `seqs` out of the log, keeping them with `reason`.
    fn quarantine<'a>(
        &'a self,
        doc: &'a DocId,
        seqs: &'a [i64],
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

impl UpdateLog for Journal {
    fn load<'a>(&'a self, doc: &'a DocId) -> BoxFuture<'a, Result<Option<StoredDoc>, StoreError>> {
        Box::pin(Journal::load(self, doc))
    }

    fn submit_append(
        &self,
        doc: DocId,
        updates: Vec<Bytes>,
        authored: Vec<Authored>,
    ) -> BoxFuture<'_, Result<Durable, StoreError>> {
        Box::pin(Journal::submit_append(self, doc, updates, authored))
    }

    fn compact(
        &self,
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(Journal::compact(self, doc, snapshot, upto_seq))
    }

    fn read_after<'a>(
        &'a self,
        doc: &'a DocId,
        after: i64,
    ) -> BoxFuture<'a, Result<CatchUp, StoreError>> {
        Box::pin(Journal::read_after(self, doc, after))
    }

    fn quarantine<'a>(
        &'a self,
        doc: &'a DocId,
        seqs: &'a [i64],
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(Journal::quarantine(self, doc, seqs, reason))
    }
}

/// An update log in memory, for tests. Writes happen at once unless [`MemoryLog::hold`]
/// is in force; then appends wait, unwritten and unanswered, until [`MemoryLog::release`].
#[derive(Clone, Default)]
pub struct MemoryLog {
    inner: Arc<Mutex<Memory>>,
}

#[derive(Default)]
struct Memory {
    docs: HashMap<DocId, MemoryDoc>,
    held: Option<Vec<Held>>,
}

/// A write waiting for [`MemoryLog::release`].
enum Held {
    Append {
        doc: DocId,
        updates: Vec<Bytes>,
        authored: Vec<Authored>,
        reply: oneshot::Sender<Result<i64, StoreError>>,
    },
    Compact {
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

#[derive(Default)]
struct MemoryDoc {
    snapshot: Option<(i64, Snapshot)>,
    log: Vec<(i64, Vec<u8>)>,
    head: i64,
    quarantined: Vec<i64>,
    bindings: Vec<Binding>,
    /// Every stored update's authorship, by sequence number.
    authored: Vec<(i64, Authored)>,
}

impl MemoryDoc {
    fn append(&mut self, updates: &[Bytes]) -> i64 {
        for update in updates {
            self.head += 1;
            self.log.push((self.head, update.to_vec()));
        }
        self.head
    }

    /// Binds the client ids `authored` claims, as the journal does: all or, if one is
    /// another user's (stored, or claimed earlier in the same append), none.
    fn bind(&mut self, authored: &[Authored]) -> Result<(), StoreError> {
        let mut claimed: Vec<Binding> = Vec::new();
        for (index, author) in authored.iter().enumerate() {
            for &client in &author.binds {
                let owner = self
                    .bindings
                    .iter()
                    .chain(&claimed)
                    .find(|b| b.client() == client);
                if let Some(owner) = owner.filter(|o| o.user_id != author.user) {
                    return Err(StoreError::ClientIdTaken {
                        index,
                        client,
                        owner: owner.user_id.clone(),
                        owner_org: owner.org_id.clone(),
                    });
                }
                claimed.push(Binding {
                    client_id: client as i64,
                    user_id: author.user.clone(),
                    org_id: author.org.clone(),
                });
            }
        }
        for author in authored {
            for &client in &author.binds {
                if !self.bindings.iter().any(|b| b.client() == client) {
                    self.bindings.push(Binding {
                        client_id: client as i64,
                        user_id: author.user.clone(),
                        org_id: author.org.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    fn compact(&mut self, snapshot: Snapshot, upto_seq: i64) {
        if self
            .snapshot
            .as_ref()
            .is_none_or(|(seq, _)| *seq <= upto_seq)
        {
            self.snapshot = Some((upto_seq, snapshot));
        }
        self.log.retain(|(seq, _)| *seq > upto_seq);
    }
}

impl Memory {
    fn append(
        &mut self,
        doc: &DocId,
        updates: &[Bytes],
        authored: Vec<Authored>,
    ) -> Result<i64, StoreError> {
        let stored = self.docs.get_mut(doc).ok_or(StoreError::NoSuchDocument)?;
        stored.bind(&authored)?;
        let head = stored.append(updates);
        let first = head - updates.len() as i64 + 1;
        stored.authored.extend((first..).zip(authored));
        Ok(head)
    }

    fn compact(
        &mut self,
        doc: &DocId,
        snapshot: Snapshot,
        upto_seq: i64,
    ) -> Result<(), StoreError> {
        let stored = self.docs.get_mut(doc).ok_or(StoreError::NoSuchDocument)?;
        stored.compact(snapshot, upto_seq);
        Ok(())
    }
}

impl MemoryLog {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a document whose log holds `updates` (as an older server could have
    /// stored them: unchecked).
    pub fn create(&self, doc: &DocId, updates: &[&[u8]]) {
        let mut memory = self.memory();
        let stored = memory.docs.entry(doc.clone()).or_default();
        let updates: Vec<Bytes> = updates.iter().map(|u| Bytes::copy_from_slice(u)).collect();
        stored.append(&updates);
    }

    /// Appends straight to the log, as another node would.
    pub fn append_now(&self, doc: &DocId, update: &[u8]) -> i64 {
        self.memory()
            .docs
            .entry(doc.clone())
            .or_default()
            .append(&[Bytes::copy_from_slice(update)])
    }

    /// Appends straight to the log with its authorship (its client ids bound as the
    /// journal binds them), as another node would.
    pub fn append_authored(
        &self,
        doc: &DocId,
        update: &[u8],
        authored: Authored,
    ) -> Result<i64, StoreError> {
        self.memory()
            .append(doc, &[Bytes::copy_from_slice(update)], vec![authored])
    }

    /// From now on appends and compactions wait for [`MemoryLog::release`].
    pub fn hold(&self) {
        self.memory().held.get_or_insert_with(Vec::new);
    }

    /// How many writes are held.
    pub fn held(&self) -> usize {
        self.memory().held.as_ref().map_or(0, Vec::len)
    }

    /// Writes and answers every held write, in order, and stops holding.
    pub fn release(&self) {
        let mut memory = self.memory();
        for held in memory.held.take().unwrap_or_default() {
            match held {
                Held::Append {
                    doc,
                    updates,
                    authored,
                    reply,
                } => {
                    let _ = reply.send(memory.append(&doc, &updates, authored));
                }
                Held::Compact {
                    doc,
                    snapshot,
                    upto_seq,
                    reply,
                } => {
                    let _ = reply.send(memory.compact(&doc, snapshot, upto_seq));
                }
            }
        }
    }

    /// The log's entries (after any snapshot), oldest first.
    pub fn entries(&self, doc: &DocId) -> Vec<(i64, Vec<u8>)> {
        self.memory()
            .docs
            .get(doc)
            .map(|d| d.log.clone())
            .unwrap_or_default()
    }

    /// The sequence numbers moved into quarantine.
    pub fn quarantined(&self, doc: &DocId) -> Vec<i64> {
        self.memory()
            .docs
            .get(doc)
            .map(|d| d.quarantined.clone())
            .unwrap_or_default()
    }

    /// The client ids bound in the document.
    pub fn bindings(&self, doc: &DocId) -> Vec<Binding> {
        self.memory()
            .docs
            .get(doc)
            .map(|d| d.bindings.clone())
            .unwrap_or_default()
    }

    /// The authorship stored with each update, by sequence number.
    pub fn authored(&self, doc: &DocId) -> Vec<(i64, Authored)> {
        self.memory()
            .docs
            .get(doc)
            .map(|d| d.authored.clone())
            .unwrap_or_default()
    }

    /// The sequence number the last snapshot covers, if any.
    pub fn snapshot_seq(&self, doc: &DocId) -> Option<i64> {
        self.memory()
            .docs
            .get(doc)
            .and_then(|d| d.snapshot.as_ref().map(|(seq, _)| *seq))
    }
}

impl UpdateLog for MemoryLog {
    fn load<'a>(&'a self, doc: &'a DocId) -> BoxFuture<'a, Result<Option<StoredDoc>, StoreError>> {
        let stored = self.memory().docs.get(doc).map(|d| StoredDoc {
            snapshot: d.snapshot.as_ref().map(|(_, s)| s.clone()),
            updates: d.log.clone(),
            head_seq: d.head,
            bindings: d.bindings.clone(),
        });
        Box::pin(std::future::ready(Ok(stored)))
    }

    fn submit_append(
        &self,
        doc: DocId,
        updates: Vec<Bytes>,
        authored: Vec<Authored>,
    ) -> BoxFuture<'_, Result<Durable, StoreError>> {
        let (reply, durable) = oneshot::channel();
        let mut memory = self.memory();
        if let Some(held) = memory.held.as_mut() {
            held.push(Held::Append {
                doc,
                updates,
                authored,
                reply,
            });
        } else {
            let _ = reply.send(memory.append(&doc, &updates, authored));
        }
        Box::pin(std::future::ready(Ok(durable)))
    }

    fn compact(
        &self,
        doc: DocId,
        snapshot: Snapshot,
        upto_seq: i64,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let (reply, done) = oneshot::channel();
        let mut memory = self.memory();
        if let Some(held) = memory.held.as_mut() {
            held.push(Held::Compact {
                doc,
                snapshot,
                upto_seq,
                reply,
            });
        } else {
            let _ = reply.send(memory.compact(&doc, snapshot, upto_seq));
        }
        Box::pin(async move { done.await.unwrap_or(Err(StoreError::WriterGone)) })
    }

    fn read_after<'a>(
        &'a self,
        doc: &'a DocId,
        after: i64,
    ) -> BoxFuture<'a, Result<CatchUp, StoreError>> {
        let read = self.memory().docs.get(doc).map(|d| {
            let updates: Vec<(i64, Vec<u8>)> = d
                .log
                .iter()
                .filter(|(seq, _)| *seq > after)
                .cloned()
                .collect();
            let contiguous = updates.first().is_some_and(|(seq, _)| *seq == after + 1);
            let snapshot = d
                .snapshot
                .clone()
                .filter(|(seq, _)| !contiguous && *seq > after);
            CatchUp { snapshot, updates }
        });
        Box::pin(std::future::ready(read.ok_or(StoreError::NoSuchDocument)))
    }

    fn quarantine<'a>(
        &'a self,
        doc: &'a DocId,
        seqs: &'a [i64],
        _reason: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Some(stored) = self.memory().docs.get_mut(doc) {
            stored.log.retain(|(seq, _)| !seqs.contains(seq));
            stored.quarantined.extend_from_slice(seqs);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}
