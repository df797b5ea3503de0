//! The commit pipeline: an update is queued, stored, then applied and relayed.
//!
//! An update from an editor travels: `connection` (decoded) → here (queued) → the
//! update log (group commit, `sync::update_log`) → here again (applied to the `Doc`)
//! → `peers` (relayed to every other connection). Applying after the commit keeps the
//! `Doc` never ahead of what is durable, so a sync step 2 answered to a joining client
//! never contains anything a crash could take back.
//!
//! While one batch is being committed, further updates queue up and go in the next
//! batch: one commit in flight per room, as many updates per commit as arrived. The
//! room submits that next batch before it applies the one just stored, so storing and
//! applying overlap (`Room::on_committed`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::oneshot;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact, Update};

use crate::storage::StoreError;
use crate::storage::authorship::Authored;
use crate::sync::ConnId;
use crate::sync::authority::Authority;
use crate::sync::authorship::{Author, Foreign, Written};
use crate::sync::close::{self, CloseReason};
use crate::sync::hooks::Committed;
use crate::sync::nesting::{self, BlockId, ScanError, Shape};
use crate::sync::protocol::{self, IncomingUpdate};
use crate::sync::quarantine::{self, Panicked};

use super::peers::Peers;
use super::replica::Replica;
use super::second_look::{Doubt, Held};
use super::{DocEditor, EditDone, EditError, Env};

/// The origin of updates the server makes itself: no connection has this id.
const SERVER_ORIGIN: ConnId = 0;

/// Batches larger than this are relayed as one update, not one frame each: a burst (a
/// paste, a fast client) must not overflow the outboxes of clients that keep up.
const MERGE_ABOVE: usize = 32;

/// Updates one commit takes at most: the journal caps a transaction at 1,024 appends
/// too. 4 under test, so the tests see a backlog split.
pub(super) const MAX_BATCH_UPDATES: usize = if cfg!(test) { 4 } else { 1024 };

/// Bytes of updates one commit takes at most (one larger update still goes alone).
const MAX_BATCH_BYTES: usize = 1 << 20;

/// An update waiting for its commit.
pub(super) struct Pending {
    origin: ConnId,
    /// Checked at the moment of commit (see [`Authority`]).
    author: Authority,
    incoming: IncomingUpdate,
    /// Client ids whose binding to the author goes in with this update (`sync::authorship`).
    binds: Vec<u64>,
    /// Told when the update is stored and relayed (server-made edits).
    done: Option<EditDone>,
}

struct Inflight {
    batch: Vec<Pending>,
    done: oneshot::Receiver<Result<i64, StoreError>>,
}

/// A stored update on its way out to the other connections.
pub(super) struct Relay {
    pub(super) origin: ConnId,
    raw: Bytes,
    received: Instant,
    pub(super) done: Option<EditDone>,
}

/// A stored batch whose application panicked inside yrs.
struct Unapplied {
    panicked: Panicked,
    batch: Vec<Relay>,
}

/// A commit's batch with what the log said of it: the head sequence number once stored.
pub(super) type Outcome = (Vec<Pending>, Result<i64, StoreError>);

/// A commit's outcome, once settled.
pub(super) struct Settled {
    /// The batch was stored and applied without a panic.
    pub(super) applied: bool,
    /// Another node's entries came in between ours: the room must catch up.
    pub(super) behind: bool,
    /// The journal found an update of the batch under a client id another node had
    /// bound to someone else: it gets a second look once the room has caught up.
    pub(super) doubt: Option<Doubt>,
}

/// What became of an update offered to [`Pipeline::queue`].
pub(super) enum Queued {
    /// Waiting for the next commit.
    Yes,
    /// Dropped (a read-only sender) or refused (its socket is closing).
    No,
    /// It writes under a client id this room believes another user's; the room may
    /// only be behind the log (see `second_look`).
    Doubtful(Doubt),
}

/// The updates a room has accepted and not yet applied.
#[derive(Default)]
pub(super) struct Pipeline {
    /// Oldest first. A deque: a commit takes a batch from the front, and with a Vec the
    /// rest of a long backlog (a large paste, a client catching up) was moved forward
    /// each time, quadratic in the backlog (13 % of the server's time in the B4 push).
    pending: VecDeque<Pending>,
    inflight: Option<Inflight>,
    /// Depths of the shared types in accepted updates not yet applied to `doc` (so an
    /// update hanging elements under them is bounded too); emptied once none is pending.
    unapplied_depths: HashMap<BlockId, usize>,
}

impl Pipeline {
    /// Whether a commit is in flight.
    pub(super) fn is_committing(&self) -> bool {
        self.inflight.is_some()
    }

    /// Whether nothing waits to be stored or applied.
    pub(super) fn is_idle(&self) -> bool {
        self.inflight.is_none() && self.pending.is_empty()
    }

    /// Queues a client's update for the next commit if its sender may edit; counts and
    /// drops it otherwise.
    pub(super) fn queue(
        &mut self,
        origin: ConnId,
        incoming: IncomingUpdate,
        author: Authority,
        env: &Env,
        replica: &mut Replica,
        peers: &Peers,
    ) -> Queued {
        if !author.can_edit() {
            env.ctx
                .metrics
                .updates_dropped_read_only
                .fetch_add(1, Relaxed);
            return Queued::No;
        }
        if let Err(refused) = self.check_nesting(replica, &incoming) {
            tracing::info!(doc = %env.id, conn = origin, %refused, "an update was refused");
            peers.close(
                origin,
                CloseReason::new(close::MALFORMED, refused.to_string()),
            );
            return Queued::No;
        }
        let binds = match check_author(replica, author.author(), &incoming.shape.written) {
            Ok(binds) => binds,
            Err(foreign) => {
                let held = Held {
                    origin,
                    incoming,
                    author,
                };
                return Queued::Doubtful(Doubt { held, foreign });
            }
        };
        self.pending.push_back(Pending {
            origin,
            author,
            incoming,
            binds,
            done: None,
        });
        Queued::Yes
    }

    /// Takes back the updates of `conn` waiting for a commit, in order (they must wait
    /// behind its update that is held for a second look).
    pub(super) fn withdraw(&mut self, conn: ConnId) -> Vec<Held> {
        let (theirs, rest): (VecDeque<Pending>, VecDeque<Pending>) =
            std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|p| p.origin == conn && p.done.is_none());
        self.pending = rest;
        theirs
            .into_iter()
            .map(|p: Pending| Held {
                origin: p.origin,
                incoming: p.incoming,
                author: p.author,
            })
            .collect()
    }

    /// Bounds how deep the update's new elements would hang in the document
    /// (`nesting::MAX_TYPE_DEPTH`), counting the depth of the elements they hang under,
    /// whether in `doc` or in accepted updates not yet applied. Runs before the update
    /// is stored: a refused update is neither stored nor relayed.
    fn check_nesting(
        &mut self,
        replica: &Replica,
        incoming: &IncomingUpdate,
    ) -> Result<(), ScanError> {
        if replica.read_only_tree {
            return Err(ScanError::DocumentTooDeep);
        }
        let depths = {
            let txn = replica.doc.transact();
            let unapplied = &self.unapplied_depths;
            incoming.shape.type_depths(|id| {
                unapplied
                    .get(&id)
                    .map(|depth| depth - 1)
                    .or_else(|| nesting::parent_depth_in(&txn, id))
            })?
        };
        self.unapplied_depths.extend(depths);
        Ok(())
    }

    /// Queues a change the server makes itself (see [`DocEditor`]), starting a commit
    /// unless one is in flight; `done` hears once it is stored and relayed, or why not.
    pub(super) async fn on_edit(
        &mut self,
        make: DocEditor,
        writer: Author,
        done: EditDone,
        env: &Env,
        replica: &mut Replica,
        peers: &mut Peers,
    ) {
        if replica.read_only_tree {
            let _ = done.send(Err(EditError::ReadOnly));
            return;
        }
        let Some(raw) = make(&replica.doc) else {
            let _ = done.send(Err(EditError::Declined));
            return;
        };
        let update = match Update::decode_v1(&raw) {
            Ok(update) => update,
            Err(error) => {
                let _ = done.send(Err(EditError::Malformed(error)));
                return;
            }
        };
        let binds = match check_author(replica, &writer, &written_by(&update)) {
            Ok(binds) => binds,
            Err(foreign) => {
                let _ = done.send(Err(EditError::Unattributable(foreign)));
                return;
            }
        };
        let incoming = IncomingUpdate {
            update,
            // Made by the server itself, from its own `Doc`.
            shape: Shape::default(),
            raw: raw.into(),
            received: Instant::now(),
        };
        self.pending.push_back(Pending {
            origin: SERVER_ORIGIN,
            author: Authority::server(writer),
            incoming,
            binds,
            done: Some(done),
        });
        if !self.is_committing() {
            self.start_commit(env, peers).await;
        }
    }

    /// Stores what is queued as one batch. Every path that stores (a commit after the
    /// last, shutdown, unload) comes through here, and here each update's sender must
    /// still be allowed to edit: a demotion since it was queued drops it.
    pub(super) async fn start_commit(&mut self, env: &Env, peers: &mut Peers) {
        // A batch left empty (every sender demoted) or refused by the log must not leave
        // the rest waiting for an update that may never come: go on to the next.
        while self.inflight.is_none() && !self.pending.is_empty() {
            let mut batch = self.take_batch();
            let queued = batch.len();
            batch.retain(|p| p.author.can_edit());
            let refused = queued - batch.len();
            if refused > 0 {
                env.ctx
                    .metrics
                    .updates_dropped_read_only
                    .fetch_add(refused as u64, Relaxed);
            }
            if batch.is_empty() {
                continue;
            }
            let raws = batch.iter().map(|p| p.incoming.raw.clone()).collect();
            let authored = batch.iter().map(authored).collect();
            match env
                .ctx
                .journal
                .submit_append(env.id.clone(), raws, authored)
                .await
            {
                Ok(done) => self.inflight = Some(Inflight { batch, done }),
                Err(error) => fail_batch(batch, error, env, peers),
            }
        }
    }

    /// The oldest pending updates, within the bounds of one batch.
    fn take_batch(&mut self) -> Vec<Pending> {
        let mut bytes = 0;
        let mut count = 0;
        for pending in &self.pending {
            bytes += pending.incoming.raw.len();
            if count == MAX_BATCH_UPDATES || (count > 0 && bytes > MAX_BATCH_BYTES) {
                break;
            }
            count += 1;
        }
        self.pending.drain(..count).collect()
    }

    /// Resolves when the commit in flight does, with its batch; never without one.
    pub(super) async fn committed(&mut self) -> Outcome {
        match &mut self.inflight {
            Some(current) => {
                let outcome = (&mut current.done)
                    .await
                    .unwrap_or(Err(StoreError::WriterGone));
                let batch = self.inflight.take().map(|i| i.batch).unwrap_or_default();
                (batch, outcome)
            }
            None => std::future::pending().await,
        }
    }

    /// After a commit settled while serving: starts the next one if updates queued
    /// meanwhile. False if nothing was left to commit.
    pub(super) async fn next_commit(&mut self, env: &Env, peers: &mut Peers) -> bool {
        if self.pending.is_empty() {
            self.unapplied_depths.clear();
            return false;
        }
        self.start_commit(env, peers).await;
        true
    }

    /// Stores and applies everything still queued or in flight (unloading).
    pub(super) async fn flush(&mut self, env: &Env, replica: &mut Replica, peers: &mut Peers) {
        loop {
            if self.inflight.is_some() {
                let (batch, outcome) = self.committed().await;
                // Unloading: no second look, as before catching up was possible.
                if let Some(doubt) = settle(batch, outcome, env, replica, peers).await.doubt {
                    refuse(doubt, env, peers);
                }
            } else if !self.pending.is_empty() {
                self.start_commit(env, peers).await;
            } else {
                break;
            }
        }
    }
}

/// What every commit's outcome goes through, while serving and while unloading: the
/// log position is noted, the batch applied and relayed (or the room recovered from a
/// panic), the extensions told.
pub(super) async fn settle(
    batch: Vec<Pending>,
    outcome: Result<i64, StoreError>,
    env: &Env,
    replica: &mut Replica,
    peers: &mut Peers,
) -> Settled {
    let head = match outcome {
        Ok(head) => head,
        Err(StoreError::ClientIdTaken {
            index,
            client,
            owner,
            owner_org,
        }) => {
            // Another node bound the id first: its owner is now known here too.
            let owner = Author {
                user: owner,
                org: owner_org,
            };
            replica.authors.taken(client, owner);
            let doubt = refuse_batch(batch, index, Foreign { client }, env, peers);
            return Settled {
                applied: false,
                behind: true,
                doubt,
            };
        }
        Err(error) => {
            fail_batch(batch, error, env, peers);
            return Settled {
                applied: false,
                behind: false,
                doubt: None,
            };
        }
    };
    let updates = batch.len();
    let bytes = batch.iter().map(|p| p.incoming.raw.len()).sum();
    for pending in &batch {
        replica.authors.stored(&pending.binds);
        peers.stored(pending.origin);
    }
    let behind = !replica.record_own(head, updates, bytes);
    if replica.suspect {
        return Settled {
            applied: false,
            behind,
            doubt: None,
        };
    }
    let applied = match apply_and_relay(batch, env, replica, peers) {
        Ok(()) => true,
        Err(unapplied) => {
            let batch = Some((head, unapplied.batch));
            replica.recover(env, peers, unapplied.panicked, batch).await;
            false
        }
    };
    if !replica.suspect {
        env.ctx
            .hooks
            .committed(&env.id, Committed { head, updates });
    }
    Settled {
        applied,
        behind,
        doubt: None,
    }
}

/// Applies a stored batch to the `Doc` and relays it. A panic inside yrs hands the
/// batch back untouched by the relay, for [`Replica::recover`].
fn apply_and_relay(
    batch: Vec<Pending>,
    env: &Env,
    replica: &mut Replica,
    peers: &mut Peers,
) -> Result<(), Unapplied> {
    let metrics = Arc::clone(&env.ctx.metrics);
    let first = batch.first().map(|p| p.origin);
    let single_origin = first.filter(|&o| batch.iter().all(|p| p.origin == o));
    let anyone_else = peers.anyone_but(single_origin);
    // A large batch (a paste, a fast client) goes out as one update: the changes the
    // applying transaction made, encoded once, in time linear in the batch.
    let merge = batch.len() > MERGE_ABOVE;
    let mut updates = Vec::with_capacity(batch.len());
    let mut relays = Vec::with_capacity(batch.len());
    for Pending {
        origin,
        incoming,
        done,
        ..
    } in batch
    {
        // Stored already, so counted now: a batch that panics below is still stored.
        metrics.updates_stored.fetch_add(1, Relaxed);
        metrics
            .update_bytes
            .fetch_add(incoming.raw.len() as u64, Relaxed);
        updates.push(incoming.update);
        relays.push(Relay {
            origin,
            raw: incoming.raw,
            received: incoming.received,
            done,
        });
    }
    let doc = &replica.doc;
    let applied = quarantine::guarded(|| {
        let mut txn = doc.transact_mut();
        for update in updates {
            if let Err(error) = txn.apply_update(update) {
                tracing::warn!(doc = %env.id, %error, "a stored update could not be applied");
            }
        }
        (merge && anyone_else).then(|| txn.encode_update_v1())
    });
    let merged = match applied {
        Ok(merged) => merged,
        Err(panicked) => {
            return Err(Unapplied {
                panicked,
                batch: relays,
            });
        }
    };
    if let Some(update) = merged {
        let delivered = peers.broadcast(&protocol::update(&update), single_origin);
        metrics
            .updates_relayed
            .fetch_add((delivered * relays.len()) as u64, Relaxed);
    } else if !merge && anyone_else {
        for relay in &relays {
            let delivered = peers.broadcast(&protocol::update(&relay.raw), Some(relay.origin));
            metrics.updates_relayed.fetch_add(delivered as u64, Relaxed);
        }
    }
    for relay in relays {
        metrics.relay_latency.observe(relay.received.elapsed());
        if let Some(done) = relay.done {
            let _ = done.send(Ok(()));
        }
    }
    Ok(())
}

/// A batch that could not be stored is not applied or relayed. Its senders are
/// disconnected: they still hold the updates and send them again when they re-sync.
fn fail_batch(batch: Vec<Pending>, error: StoreError, env: &Env, peers: &mut Peers) {
    tracing::error!(doc = %env.id, %error, updates = batch.len(), "storing updates failed");
    env.ctx.metrics.storage_failures.fetch_add(1, Relaxed);
    let mut origins = Vec::with_capacity(batch.len());
    for pending in batch {
        origins.push(pending.origin);
        if let Some(done) = pending.done {
            let _ = done.send(Err(EditError::NotStored));
        }
    }
    origins.dedup();
    for conn in origins {
        peers.disconnect(
            conn,
            CloseReason::new(
                close::TRY_AGAIN,
                "the update could not be stored; reconnect",
            ),
        );
    }
}

/// Checks that `writer` may write what `written` says under its client ids (see
/// `sync::authorship`), asking the document's state only when a client id is new.
fn check_author(
    replica: &mut Replica,
    writer: &Author,
    written: &[Written],
) -> Result<Vec<u64>, Foreign> {
    let doc = &replica.doc;
    replica
        .authors
        .check(writer, written, || doc.transact().state_vector())
}

/// The client sections of an update the server made (not scanned: it is its own),
/// from its insertions; such updates are rare and small.
fn written_by(update: &Update) -> Vec<Written> {
    update
        .insertions(true)
        .iter()
        .filter_map(|(client, ranges)| {
            let end = ranges.iter().map(|r| r.end).max()?;
            Some(Written {
                client: client.get(),
                end,
            })
        })
        .collect()
}

/// What the journal stores beside an update: its author, the client ids to bind, and
/// its delete set when it deletes (who deleted what must outlive compaction).
fn authored(pending: &Pending) -> Authored {
    let author = pending.author.author();
    let deletes = pending.incoming.update.delete_set();
    Authored {
        user: author.user.clone(),
        org: author.org.clone(),
        binds: pending.binds.clone(),
        deletes: (!deletes.is_empty()).then(|| deletes.encode_v1()),
    }
}

/// A batch the journal refused because update `index` writes under a client id another
/// node had bound to someone else. Nothing of the batch was stored: the other senders
/// reconnect and send theirs again, and that update is handed back for a second look
/// once the room has caught up (it may only pass on what that node stored).
fn refuse_batch(
    mut batch: Vec<Pending>,
    index: usize,
    foreign: Foreign,
    env: &Env,
    peers: &mut Peers,
) -> Option<Doubt> {
    tracing::info!(doc = %env.id, %foreign, "the journal found a client id bound to another user");
    let doubted = (index < batch.len() && batch[index].done.is_none()).then(|| batch.remove(index));
    for pending in batch {
        if let Some(done) = pending.done {
            let _ = done.send(Err(EditError::NotStored));
        }
        if doubted.as_ref().is_some_and(|d| d.origin == pending.origin) {
            continue;
        }
        let reason = CloseReason::new(
            close::TRY_AGAIN,
            "the update could not be stored; reconnect",
        );
        peers.disconnect(pending.origin, reason);
    }
    doubted.map(|p| Doubt {
        held: Held {
            origin: p.origin,
            incoming: p.incoming,
            author: p.author,
        },
        foreign,
    })
}

/// Refuses an update that writes under a client id bound to another user, after the
/// second look: its socket closes with the authorship code.
pub(super) fn refuse(doubt: Doubt, env: &Env, peers: &Peers) {
    let Doubt { held, foreign } = doubt;
    tracing::info!(doc = %env.id, conn = held.origin, %foreign, "an update under another user's client id was refused");
    env.ctx
        .metrics
        .updates_refused_foreign
        .fetch_add(1, Relaxed);
    peers.close(
        held.origin,
        CloseReason::new(close::FOREIGN_CLIENT_ID, foreign.to_string()),
    );
}
