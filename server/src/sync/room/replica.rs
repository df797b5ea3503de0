//! The room's copy of the document and its place in the log: loaded, rebuilt after a
//! panic inside yrs (quarantining what panics), compacted.
//!
//! The `Doc` only ever holds what is stored, so it is rebuilt from the database alone:
//! when applying a stored batch panics, nothing about the `Doc` can be trusted any
//! more, and the log is the truth to start again from.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::storage::journal::StoredDoc;
use crate::storage::snapshot::Snapshot;
use crate::sync::authorship::Authors;
use crate::sync::close::{self, CloseReason};
use crate::sync::compaction::CompactionPolicy;
use crate::sync::nesting;
use crate::sync::protocol;
use crate::sync::quarantine::{self, Panicked};

use super::full_state::FullState;
use super::peers::Peers;
use super::pipeline::Relay;
use super::{EditError, Env};

/// What opening a room's document gave.
pub(super) enum Opening {
    Ready(Replica),
    /// The log has no such document (deleted, or never created).
    NoSuchDocument,
    /// The log could not be read, or the snapshot itself panics in yrs (logged).
    Unreadable,
}

/// The document and where it stands in the log.
pub(super) struct Replica {
    pub(super) doc: Doc,
    /// Every log entry up to this sequence number is in `doc`.
    pub(super) applied_seq: i64,
    compacted_seq: i64,
    compaction: CompactionPolicy,
    /// The stored tree nests deeper than `nesting::MAX_TYPE_DEPTH` (planted before the
    /// bound): edits are refused, since yrs would delete or collect it recursively.
    pub(super) read_only_tree: bool,
    /// A panic inside yrs left `doc` untrustworthy and it could not be rebuilt: the room
    /// ends without compacting it.
    pub(super) suspect: bool,
    /// Who each client id that wrote into `doc` belongs to (`sync::authorship`); kept
    /// across a rebuild, since bindings are never undone.
    pub(super) authors: Authors,
    /// The answer to a client that holds nothing, kept while `doc` is unchanged.
    pub(super) full_state: FullState,
}

impl Replica {
    /// Reads the document from the log.
    pub(super) async fn load(env: &Env) -> Opening {
        let loaded = match env.ctx.journal.load(&env.id).await {
            Ok(Some(stored)) => Loaded::from_stored(env, stored).await,
            Ok(None) => return Opening::NoSuchDocument,
            Err(error) => {
                tracing::error!(doc = %env.id, %error, "loading a document failed");
                None
            }
        };
        let Some(loaded) = loaded else {
            return Opening::Unreadable;
        };
        let read_only_tree = nesting::tree_too_deep(&loaded.doc);
        if read_only_tree {
            tracing::error!(doc = %env.id, "the document nests too deep to edit safely; read-only");
        }
        Opening::Ready(Self {
            full_state: FullState::watch(&loaded.doc),
            doc: loaded.doc,
            applied_seq: loaded.applied_seq,
            compacted_seq: loaded.compacted_seq,
            compaction: loaded.compaction,
            read_only_tree,
            suspect: false,
            authors: loaded.authors,
        })
    }

    /// Notes the sequence numbers of a batch of ours that ended at `head`, of `bytes`.
    /// False if another node's entries came in between: they must be read from the log.
    pub(super) fn record_own(&mut self, head: i64, count: usize, bytes: usize) -> bool {
        self.compaction.logged(bytes);
        let first = head - count as i64 + 1;
        if first == self.applied_seq + 1 {
            self.applied_seq = head;
            true
        } else {
            false
        }
    }

    /// Notes what a catch-up applied: the log up to `seq`, `bytes` of entries.
    pub(super) fn caught_up(&mut self, seq: i64, bytes: usize) {
        self.compaction.logged(bytes);
        self.applied_seq = self.applied_seq.max(seq);
    }

    /// A panic inside yrs left the `Doc` untrustworthy: it is rebuilt from the
    /// database, where the entries that panic are quarantined, and every connection is
    /// sent the rebuilt state. `batch` is the stored batch being applied, ending at log
    /// position `head`: a sender whose update was quarantined is closed with 4400 (its
    /// client would only send it again), the rest are told their change is in. If the
    /// document cannot be rebuilt, every connection is closed and the room ends.
    pub(super) async fn recover(
        &mut self,
        env: &Env,
        peers: &mut Peers,
        panicked: Panicked,
        batch: Option<(i64, Vec<Relay>)>,
    ) {
        tracing::error!(doc = %env.id, %panicked, "applying updates panicked; rebuilding the document");
        env.ctx.metrics.apply_panics.fetch_add(1, Relaxed);
        let loaded = match env.ctx.journal.load(&env.id).await {
            Ok(Some(stored)) => Loaded::from_stored(env, stored).await,
            Ok(None) => None,
            Err(error) => {
                tracing::error!(doc = %env.id, %error, "reading the document to rebuild it failed");
                None
            }
        };
        let Some(loaded) = loaded else {
            self.suspect = true;
            peers.close_all(CloseReason::new(
                close::TRY_AGAIN,
                "the document must be reloaded",
            ));
            if let Some((_, batch)) = batch {
                for done in batch.into_iter().filter_map(|r| r.done) {
                    let _ = done.send(Err(EditError::MustReload));
                }
            }
            return;
        };
        self.full_state = FullState::watch(&loaded.doc);
        self.doc = loaded.doc;
        self.applied_seq = loaded.applied_seq;
        self.compacted_seq = loaded.compacted_seq;
        self.compaction = loaded.compaction;
        if let Some((head, batch)) = batch {
            let first = head - batch.len() as i64 + 1;
            for (seq, relay) in (first..).zip(batch) {
                let refused = loaded.quarantined.contains(&seq);
                if refused {
                    peers.disconnect(
                        relay.origin,
                        CloseReason::new(close::MALFORMED, "an update could not be applied"),
                    );
                }
                if let Some(done) = relay.done {
                    let _ = done.send(if refused {
                        Err(EditError::NotApplied)
                    } else {
                        Ok(())
                    });
                }
            }
        }
        let state = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        peers.broadcast(&protocol::update(&state), None);
    }

    /// Compacts when the log has grown enough since the last time (see
    /// [`CompactionPolicy`]).
    pub(super) fn maybe_compact(&mut self, env: &Env) {
        if !self.compaction.due(self.applied_seq - self.compacted_seq) {
            return;
        }
        let snapshot = Snapshot::of(&self.doc.transact());
        self.compaction.compacted(snapshot.data.len());
        let upto = self.applied_seq;
        let journal = Arc::clone(&env.ctx.journal);
        let metrics = Arc::clone(&env.ctx.metrics);
        let id = env.id.clone();
        // The writer orders it after every append already queued; the room need not wait.
        tokio::spawn(async move {
            match journal.compact(id.clone(), snapshot, upto).await {
                Ok(()) => {
                    metrics.compactions.fetch_add(1, Relaxed);
                }
                Err(error) => tracing::warn!(doc = %id, %error, "compaction failed; the log stays"),
            }
        });
        self.compacted_seq = upto;
    }

    /// Compacts whatever the log holds past the last snapshot, waiting for it: the next
    /// load then starts from one snapshot. A suspect document is left as the log has it.
    pub(super) async fn compact_at_unload(&mut self, env: &Env) {
        if self.applied_seq <= self.compacted_seq || self.suspect {
            return;
        }
        let snapshot = Snapshot::of(&self.doc.transact());
        match env
            .ctx
            .journal
            .compact(env.id.clone(), snapshot, self.applied_seq)
            .await
        {
            Ok(()) => {
                env.ctx.metrics.compactions.fetch_add(1, Relaxed);
            }
            Err(error) => tracing::warn!(doc = %env.id, %error, "compaction at unload failed"),
        }
    }
}

/// A room's document as read from the database, with its log position.
struct Loaded {
    doc: Doc,
    applied_seq: i64,
    compacted_seq: i64,
    compaction: CompactionPolicy,
    /// Sequence numbers of the log entries quarantined while loading.
    quarantined: Vec<i64>,
    authors: Authors,
}

impl Loaded {
    /// Rebuilds the `Doc`, moving any entry that makes yrs panic into quarantine (see
    /// [`quarantine`]). `None` if even that cannot give a document (the snapshot
    /// panics), which is logged.
    async fn from_stored(env: &Env, stored: StoredDoc) -> Option<Self> {
        let parts: Vec<&[u8]> = stored.updates.iter().map(|(_, d)| d.as_slice()).collect();
        let rebuilt = match quarantine::rebuild(stored.snapshot.as_ref(), &parts) {
            Ok(rebuilt) => rebuilt,
            Err(error) => {
                tracing::error!(doc = %env.id, %error, "the document cannot be rebuilt");
                return None;
            }
        };
        let quarantined: Vec<i64> = rebuilt
            .refused
            .iter()
            .map(|&i| stored.updates[i].0)
            .collect();
        if !quarantined.is_empty() {
            tracing::error!(doc = %env.id, seqs = ?quarantined, "stored updates fail the scan or make yrs panic; quarantining them");
            env.ctx
                .metrics
                .updates_quarantined
                .fetch_add(quarantined.len() as u64, Relaxed);
            if let Err(error) = env
                .ctx
                .journal
                .quarantine(
                    &env.id,
                    &quarantined,
                    "refused by the update scan, or applying it panicked in yrs",
                )
                .await
            {
                // The document is served without them all the same; the next load finds
                // them again.
                tracing::error!(doc = %env.id, %error, "quarantining updates failed");
            }
        }
        // A log with entries after the snapshot is compacted at the next opportunity.
        let compacted_seq = if stored.updates.is_empty() {
            stored.head_seq
        } else {
            0
        };
        let compaction = CompactionPolicy::new(
            env.ctx.settings.compact_after_updates,
            stored.snapshot.as_ref().map_or(0, |s| s.data.len()),
            stored.updates.iter().map(|(_, d)| d.len()).sum(),
        );
        Some(Self {
            doc: rebuilt.doc,
            applied_seq: stored.head_seq,
            compacted_seq,
            compaction,
            quarantined,
            authors: Authors::from_stored(&stored.bindings),
        })
    }
}
