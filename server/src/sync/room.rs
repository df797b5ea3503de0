//! One open document: the task that owns its `Doc`, presence and connections.
//!
//! Every change to a room goes through its command channel, so the state needs no lock.
//! An update from an editor travels: connection (decoded) → room (queued) → journal
//! (group commit) → room (applied to the `Doc`, relayed to every other connection).
//! Applying after the commit keeps the `Doc` equal to what is durable, so a sync step 2
//! answered to a joining client never contains anything a crash could take back.
//!
//! While one batch is being committed, further updates queue up and go in the next
//! batch: one commit in flight per room, as many updates per commit as arrived.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

use crate::auth::{Identity, Member, Role, access::effective_role};
use crate::cluster::{Cluster, Notice};
use crate::ids::DocId;
use crate::metrics::Metrics;
use crate::storage::StoreError;
use crate::storage::journal::StoredDoc;
use crate::storage::snapshot::Snapshot;
use crate::sync::ConnId;
use crate::sync::authority::Authority;
use crate::sync::close::{self, CloseReason};
use crate::sync::compaction::CompactionPolicy;
use crate::sync::crdt;
use crate::sync::hooks::{Committed, Hooks, MessageKind};
use crate::sync::nesting::{self, BlockId, ScanError, Shape};
use crate::sync::presence::Presence;
use crate::sync::protocol::{self, Inbound, IncomingUpdate};
use crate::sync::quarantine::{self, Panicked};
use crate::sync::registry::RoomRegistry;
use crate::sync::update_log::UpdateLog;

/// Commands a room's channel can hold before senders wait (1 under test, to surface
/// interleavings).
pub const COMMAND_CAPACITY: usize = if cfg!(test) { 1 } else { 1024 };

/// A connection as its room sees it.
pub struct Peer {
    pub identity: Identity,
    /// The connection's role, shared with its reader and with every update it sent.
    pub authority: Authority,
    /// Frames to send; bounded, and a full outbox disconnects the client.
    pub outbox: mpsc::Sender<Bytes>,
    /// Set to close the socket with a code and reason.
    pub close: Arc<watch::Sender<Option<CloseReason>>>,
    /// The live-event kinds the client subscribed to (`sync::hooks`, `sync::live`).
    pub subscriptions: Vec<MessageKind>,
}

impl Peer {
    /// A connection subscribed to no live events yet.
    pub fn new(
        identity: Identity,
        authority: Authority,
        outbox: mpsc::Sender<Bytes>,
        close: Arc<watch::Sender<Option<CloseReason>>>,
    ) -> Self {
        Self {
            identity,
            authority,
            outbox,
            close,
            subscriptions: Vec::new(),
        }
    }

    fn close(&self, reason: CloseReason) {
        self.close.send_replace(Some(reason));
    }
}

/// Why a join did not happen.
pub enum JoinError {
    /// The room is unloading; the peer is handed back to try a fresh room.
    Closed(Peer),
    /// The document could not be loaded.
    Failed(String),
}

/// A closure run against the room's `Doc`.
pub type DocReader = Box<dyn FnOnce(&Doc) + Send>;
/// A closure computing a server-made update from the room's `Doc` (without changing it).
pub type DocEditor = Box<dyn FnOnce(&Doc) -> Result<Vec<u8>, String> + Send>;

/// The origin of updates the server makes itself: no connection has this id.
const SERVER_ORIGIN: ConnId = 0;

/// What a room can be asked to do.
pub enum RoomCommand {
    Join {
        conn: ConnId,
        peer: Peer,
        reply: oneshot::Sender<Result<(), JoinError>>,
    },
    Message {
        conn: ConnId,
        message: Inbound,
        /// The sender's authority, read again when an update is stored: a command still
        /// queued when the sender is gone (shutdown, unload) carries it along.
        from: Authority,
    },
    Leave {
        conn: ConnId,
    },
    /// The document's membership changed: re-derive every connection's role.
    Members(Vec<Member>),
    /// Read the document (exports, anchors).
    Read(DocReader),
    /// A change made by the server (an accepted proposal): `make` computes the update
    /// from the current document; `done` hears once it is stored and relayed.
    Edit {
        make: DocEditor,
        done: oneshot::Sender<Result<(), String>>,
    },
    /// A live event for the connections subscribed to its kind (`sync::live`).
    Event {
        kind: MessageKind,
        frame: Bytes,
    },
    /// Word from another node (see `cluster`).
    Remote(RemoteNotice),
    /// The document is gone: close every connection and unload without compacting.
    Close(CloseReason),
}

/// What another node's notices mean for a room.
#[derive(Debug)]
pub enum RemoteNotice {
    /// The log has entries up to `head` (unknown: look): read what is missing.
    CatchUp { head: Option<i64> },
    /// A presence message from a client of `node`.
    Awareness { node: String, message: Bytes },
    /// `node` fell silent: its clients' presence goes.
    NodeGone { node: String },
}

/// Pseudo-connection ids for other nodes' clients in `presence`, far above real ones.
const REMOTE_CONN_BASE: ConnId = 1 << 62;

/// Tunables of every room.
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// How long an empty room stays loaded.
    pub idle_unload: Duration,
    /// Log entries after which the room compacts while open.
    pub compact_after_updates: i64,
}

/// What a room needs from the rest of the server.
#[derive(Clone)]
pub struct RoomContext {
    /// The update log (`storage::journal`, or `MemoryLog` in tests).
    pub journal: Arc<dyn UpdateLog>,
    pub cluster: Cluster,
    /// What the product registered (`sync::hooks`).
    pub hooks: Arc<Hooks>,
    pub metrics: Arc<Metrics>,
    pub settings: RoomSettings,
    pub shutdown: CancellationToken,
}

struct Pending {
    origin: ConnId,
    /// Checked at the moment of commit (see [`Authority`]).
    author: Authority,
    incoming: IncomingUpdate,
    /// Told when the update is stored and relayed (server-made edits).
    done: Option<oneshot::Sender<Result<(), String>>>,
}

struct Inflight {
    batch: Vec<Pending>,
    done: oneshot::Receiver<Result<i64, StoreError>>,
}

/// A stored update on its way out to the other connections.
struct Relay {
    origin: ConnId,
    raw: Bytes,
    received: Instant,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

/// A stored batch whose application panicked inside yrs.
struct Unapplied {
    panicked: Panicked,
    batch: Vec<Relay>,
}

/// The state of one open document.
pub struct Room {
    id: DocId,
    generation: u64,
    registry: RoomRegistry,
    ctx: RoomContext,
    doc: Doc,
    presence: Presence,
    peers: HashMap<ConnId, Peer>,
    members: Option<Vec<Member>>,
    /// Every log entry up to this sequence number is in `doc`.
    applied_seq: i64,
    compacted_seq: i64,
    compaction: CompactionPolicy,
    /// A catch-up is due once the commit in flight is done.
    catch_up_due: bool,
    /// The pseudo-connection standing for each other node's clients in `presence`.
    remote_nodes: HashMap<String, ConnId>,
    pending: Vec<Pending>,
    inflight: Option<Inflight>,
    /// Depths of the shared types in accepted updates not yet applied to `doc` (so an
    /// update hanging elements under them is bounded too); emptied once none is pending.
    unapplied_depths: HashMap<BlockId, usize>,
    /// The stored tree nests deeper than `nesting::MAX_TYPE_DEPTH` (planted before the
    /// bound): edits are refused, since yrs would delete or collect it recursively.
    read_only_tree: bool,
    /// On tokio's clock, so paused time in tests moves it too.
    idle_since: Option<tokio::time::Instant>,
    /// A panic inside yrs left `doc` untrustworthy and it could not be rebuilt: the room
    /// ends without compacting it.
    suspect: bool,
}

/// Loads the document and serves commands until the room unloads.
pub async fn run(
    id: DocId,
    generation: u64,
    registry: RoomRegistry,
    ctx: RoomContext,
    mut commands: mpsc::Receiver<RoomCommand>,
) {
    let loaded = match ctx.journal.load(&id).await {
        Ok(Some(stored)) => Loaded::from_stored(&id, stored, &ctx).await,
        Ok(None) => {
            return refuse_all(&id, generation, &registry, commands, "no such document").await;
        }
        Err(error) => {
            tracing::error!(doc = %id, %error, "loading a document failed");
            None
        }
    };
    let Some(loaded) = loaded else {
        let why = "the document could not be loaded";
        return refuse_all(&id, generation, &registry, commands, why).await;
    };
    ctx.metrics.rooms_open.fetch_add(1, Relaxed);
    let mut room = Room {
        id,
        generation,
        registry,
        doc: loaded.doc,
        presence: Presence::default(),
        peers: HashMap::new(),
        members: None,
        applied_seq: loaded.applied_seq,
        compacted_seq: loaded.compacted_seq,
        compaction: loaded.compaction,
        catch_up_due: false,
        remote_nodes: HashMap::new(),
        pending: Vec::new(),
        inflight: None,
        unapplied_depths: HashMap::new(),
        read_only_tree: false,
        idle_since: Some(tokio::time::Instant::now()),
        suspect: false,
        ctx,
    };
    room.read_only_tree = nesting::tree_too_deep(&room.doc);
    if room.read_only_tree {
        tracing::error!(doc = %room.id, "the document nests too deep to edit safely; read-only");
    }
    room.serve(&mut commands).await;
    room.ctx.metrics.rooms_open.fetch_sub(1, Relaxed);
}

async fn refuse_all(
    id: &DocId,
    generation: u64,
    registry: &RoomRegistry,
    mut commands: mpsc::Receiver<RoomCommand>,
    why: &str,
) {
    registry.unregister(id, generation);
    commands.close();
    while let Some(command) = commands.recv().await {
        if let RoomCommand::Join { reply, .. } = command {
            let _ = reply.send(Err(JoinError::Failed(why.to_owned())));
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
}

impl Loaded {
    /// Rebuilds the `Doc`, moving any entry that makes yrs panic into quarantine (see
    /// [`quarantine`]). `None` if even that cannot give a document (the snapshot
    /// panics), which is logged.
    async fn from_stored(id: &DocId, stored: StoredDoc, ctx: &RoomContext) -> Option<Self> {
        let parts: Vec<&[u8]> = stored.updates.iter().map(|(_, d)| d.as_slice()).collect();
        let rebuilt = match quarantine::rebuild(stored.snapshot.as_ref(), &parts) {
            Ok(rebuilt) => rebuilt,
            Err(error) => {
                tracing::error!(doc = %id, %error, "the document cannot be rebuilt");
                return None;
            }
        };
        let quarantined: Vec<i64> = rebuilt
            .refused
            .iter()
            .map(|&i| stored.updates[i].0)
            .collect();
        if !quarantined.is_empty() {
            tracing::error!(doc = %id, seqs = ?quarantined, "stored updates fail the scan or make yrs panic; quarantining them");
            ctx.metrics
                .updates_quarantined
                .fetch_add(quarantined.len() as u64, Relaxed);
            if let Err(error) = ctx
                .journal
                .quarantine(
                    id,
                    &quarantined,
                    "refused by the update scan, or applying it panicked in yrs",
                )
                .await
            {
                // The document is served without them all the same; the next load finds
                // them again.
                tracing::error!(doc = %id, %error, "quarantining updates failed");
            }
        }
        // A log with entries after the snapshot is compacted at the next opportunity.
        let compacted_seq = if stored.updates.is_empty() {
            stored.head_seq
        } else {
            0
        };
        let compaction = CompactionPolicy::new(
            ctx.settings.compact_after_updates,
            stored.snapshot.as_ref().map_or(0, |s| s.data.len()),
            stored.updates.iter().map(|(_, d)| d.len()).sum(),
        );
        Some(Self {
            doc: rebuilt.doc,
            applied_seq: stored.head_seq,
            compacted_seq,
            compaction,
            quarantined,
        })
    }
}

impl Room {
    async fn serve(&mut self, commands: &mut mpsc::Receiver<RoomCommand>) {
        let shutdown = self.ctx.shutdown.clone();
        loop {
            let idle_deadline = self.unload_deadline();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(RoomCommand::Close(reason)) => {
                        self.close_all(reason);
                        self.registry.unregister(&self.id, self.generation);
                        drain_closed(commands, &self.doc);
                        return;
                    }
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                result = wait_inflight(&mut self.inflight) => self.on_committed(result).await,
                () = sleep_until_opt(idle_deadline) => break,
                () = shutdown.cancelled() => {
                    self.close_all(CloseReason::new(close::RESTARTING, "the server is restarting"));
                    break;
                }
            }
            if self.suspect {
                break;
            }
        }
        self.unload(commands).await;
    }

    fn unload_deadline(&self) -> Option<tokio::time::Instant> {
        let idle = self.peers.is_empty() && self.inflight.is_none() && self.pending.is_empty();
        match (idle, self.idle_since) {
            (true, Some(since)) => Some(since + self.ctx.settings.idle_unload),
            _ => None,
        }
    }

    async fn handle(&mut self, command: RoomCommand) {
        match command {
            RoomCommand::Join { conn, peer, reply } => {
                self.join(conn, peer);
                let _ = reply.send(Ok(()));
            }
            RoomCommand::Message {
                conn,
                message,
                from,
            } => self.on_message(conn, message, from).await,
            RoomCommand::Leave { conn } => self.leave(conn),
            RoomCommand::Members(members) => self.on_members(members),
            RoomCommand::Read(reader) => reader(&self.doc),
            RoomCommand::Edit { make, done } => self.server_edit(make, done).await,
            RoomCommand::Event { kind, frame } => self.publish_event(kind, &frame),
            RoomCommand::Remote(notice) => {
                if let Some(RemoteNotice::CatchUp { head }) = self.on_remote(notice) {
                    self.catch_up(head).await;
                }
            }
            RoomCommand::Close(_) => {}
        }
    }

    /// Bounds how deep the update's new elements would hang in the document
    /// (`nesting::MAX_TYPE_DEPTH`), counting the depth of the elements they hang under,
    /// whether in `doc` or in accepted updates not yet applied. Runs before the update
    /// is stored: a refused update is neither stored nor relayed.
    fn check_nesting(&mut self, incoming: &IncomingUpdate) -> Result<(), ScanError> {
        if self.read_only_tree {
            return Err(ScanError::DocumentTooDeep);
        }
        let depths = {
            let txn = self.doc.transact();
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

    fn join(&mut self, conn: ConnId, peer: Peer) {
        if let Some(members) = &self.members {
            match effective_role(members, &peer.identity.user, &peer.identity.org) {
                Some(role) => peer.authority.set(role),
                None => {
                    peer.authority.set(Role::Viewer);
                    peer.close(CloseReason::new(
                        close::FORBIDDEN,
                        "no access to this document",
                    ));
                    return;
                }
            }
        }
        let step1 = protocol::sync_step1(self.doc.transact().state_vector());
        let presence = self.presence.snapshot().map(protocol::awareness);
        let identity = peer.identity.clone();
        self.peers.insert(conn, peer);
        self.idle_since = None;
        self.send(conn, step1);
        if let Some(frame) = presence {
            self.send(conn, frame);
        }
        self.ctx.hooks.joined(&self.id, &identity);
    }

    async fn on_message(&mut self, conn: ConnId, message: Inbound, from: Authority) {
        if !self.peers.contains_key(&conn) {
            return;
        }
        match message {
            Inbound::SyncStep1(sv) => {
                let diff = self.doc.transact().encode_diff_v1(&sv);
                self.send(conn, protocol::sync_step2(diff));
            }
            // Every client answers the server's step 1 with a step 2, usually empty:
            // nothing to store or relay.
            Inbound::Update(incoming) if incoming.update.is_empty() => {}
            Inbound::Update(incoming) => {
                if !self.queue_update(conn, incoming, from) {
                    return;
                }
                if self.inflight.is_none() {
                    self.start_commit().await;
                }
            }
            Inbound::Awareness { update, .. } => {
                let Some(user) = self.peers.get(&conn).map(|p| p.identity.user.clone()) else {
                    return;
                };
                // Only what this connection may set, and only what is new, is relayed.
                if let Some(accepted) = self.presence.apply(conn, user.as_str(), &update) {
                    let message = protocol::awareness(accepted);
                    self.broadcast(&message, None);
                    self.ctx
                        .cluster
                        .publish(Notice::awareness(self.id.as_str(), &message));
                }
            }
            Inbound::AwarenessQuery => {
                if let Some(update) = self.presence.snapshot() {
                    self.send(conn, protocol::awareness(update));
                }
            }
            Inbound::Custom(kind) => {
                if let Some(kind) = self.ctx.hooks.subscription_for(kind)
                    && let Some(peer) = self.peers.get_mut(&conn)
                    && !peer.subscriptions.contains(&kind)
                {
                    peer.subscriptions.push(kind);
                }
            }
            Inbound::Ignored => {}
        }
    }

    async fn server_edit(&mut self, make: DocEditor, done: oneshot::Sender<Result<(), String>>) {
        if self.read_only_tree {
            let _ = done.send(Err(ScanError::DocumentTooDeep.to_string()));
            return;
        }
        let made = make(&self.doc).and_then(|raw| {
            let update = Update::decode_v1(&raw).map_err(|e| e.to_string())?;
            Ok((update, raw))
        });
        match made {
            Ok((update, raw)) => {
                let incoming = IncomingUpdate {
                    update,
                    // Made by the server itself, from its own `Doc`.
                    shape: Shape::default(),
                    raw: raw.into(),
                    received: Instant::now(),
                };
                self.pending.push(Pending {
                    origin: SERVER_ORIGIN,
                    author: Authority::server(),
                    incoming,
                    done: Some(done),
                });
                if self.inflight.is_none() {
                    self.start_commit().await;
                }
            }
            Err(error) => {
                let _ = done.send(Err(error));
            }
        }
    }

    fn publish_event(&mut self, kind: MessageKind, frame: &Bytes) {
        let subscribers: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.subscriptions.contains(&kind))
            .map(|(&c, _)| c)
            .collect();
        for conn in subscribers {
            self.send(conn, frame.clone());
        }
    }

    fn leave(&mut self, conn: ConnId) {
        if self.peers.remove(&conn).is_none() {
            return;
        }
        if let Some(removal) = self.presence.remove_conn(conn) {
            let message = protocol::awareness(removal);
            self.broadcast(&message, None);
            self.ctx
                .cluster
                .publish(Notice::awareness(self.id.as_str(), &message));
        }
        if self.peers.is_empty() {
            self.idle_since = Some(tokio::time::Instant::now());
        }
    }

    /// Re-derives every connection's role. A connection that lost access closes with
    /// 4403; one whose role changed closes with 4100, so its client reconnects and learns
    /// what it may now do (an editor's page that silently turned read-only would let
    /// its user type into the void). From the moment of the change, updates from a
    /// connection no longer allowed to edit are dropped.
    fn on_members(&mut self, members: Vec<Member>) {
        let mut closing = Vec::new();
        for (&conn, peer) in &mut self.peers {
            match effective_role(&members, &peer.identity.user, &peer.identity.org) {
                Some(role) if role == peer.authority.role() => {}
                Some(role) => {
                    peer.authority.set(role);
                    let reason = format!(
                        "your role on this document is now {}; reconnect",
                        role.as_str()
                    );
                    closing.push((conn, CloseReason::new(close::ROLE_CHANGED, reason)));
                }
                None => {
                    peer.authority.set(Role::Viewer);
                    closing.push((
                        conn,
                        CloseReason::new(close::FORBIDDEN, "access to this document was revoked"),
                    ));
                }
            }
        }
        for (conn, reason) in closing {
            self.disconnect(conn, reason);
        }
        self.ctx.hooks.members_changed(&self.id, &members);
        self.members = Some(members);
    }

    /// Queues a client's update for the next commit if its sender may edit; counts and
    /// drops it otherwise. True if it was queued.
    fn queue_update(
        &mut self,
        origin: ConnId,
        incoming: IncomingUpdate,
        author: Authority,
    ) -> bool {
        if !author.can_edit() {
            self.ctx
                .metrics
                .updates_dropped_read_only
                .fetch_add(1, Relaxed);
            return false;
        }
        if let Err(refused) = self.check_nesting(&incoming) {
            tracing::info!(doc = %self.id, conn = origin, %refused, "an update was refused");
            if let Some(peer) = self.peers.get(&origin) {
                peer.close(CloseReason::new(close::MALFORMED, refused.to_string()));
            }
            return false;
        }
        self.pending.push(Pending {
            origin,
            author,
            incoming,
            done: None,
        });
        true
    }

    /// Stores what is queued as one batch. Every path that stores (a commit after the
    /// last, shutdown, unload) comes through here, and here each update's sender must
    /// still be allowed to edit: a demotion since it was queued drops it.
    async fn start_commit(&mut self) {
        let mut batch = std::mem::take(&mut self.pending);
        let queued = batch.len();
        batch.retain(|p| p.author.can_edit());
        let refused = queued - batch.len();
        if refused > 0 {
            self.ctx
                .metrics
                .updates_dropped_read_only
                .fetch_add(refused as u64, Relaxed);
        }
        if batch.is_empty() {
            return;
        }
        let raws = batch.iter().map(|p| p.incoming.raw.clone()).collect();
        match self.ctx.journal.submit_append(self.id.clone(), raws).await {
            Ok(done) => self.inflight = Some(Inflight { batch, done }),
            Err(error) => self.fail_batch(batch, error),
        }
    }

    /// What every commit's outcome goes through, while serving and while unloading: the
    /// log position is noted, the batch applied and relayed (or the room recovered from a
    /// panic), the extensions told. True if the batch was applied without a panic.
    async fn settle(&mut self, batch: Vec<Pending>, outcome: Result<i64, StoreError>) -> bool {
        let head = match outcome {
            Ok(head) => head,
            Err(error) => {
                self.fail_batch(batch, error);
                return false;
            }
        };
        let updates = batch.len();
        self.record_own(head, updates);
        let bytes = batch.iter().map(|p| p.incoming.raw.len()).sum();
        self.compaction.logged(bytes);
        if self.suspect {
            return false;
        }
        let applied = match self.apply_and_relay(batch) {
            Ok(()) => true,
            Err(unapplied) => {
                self.recover(unapplied.panicked, Some((head, unapplied.batch)))
                    .await;
                false
            }
        };
        if !self.suspect {
            self.ctx
                .hooks
                .committed(&self.id, Committed { head, updates });
        }
        applied
    }

    async fn on_committed(&mut self, result: (Vec<Pending>, Result<i64, StoreError>)) {
        let (batch, outcome) = result;
        if self.settle(batch, outcome).await {
            self.maybe_compact().await;
        }
        if self.suspect {
            return;
        }
        if self.pending.is_empty() {
            self.unapplied_depths.clear();
        }
        if !self.pending.is_empty() {
            self.start_commit().await;
        } else if self.catch_up_due {
            self.catch_up(None).await;
        }
    }

    /// Notes the sequence numbers of a batch of ours that ended at `head`. If another
    /// node's entries came in between, they are read from the log.
    fn record_own(&mut self, head: i64, count: usize) {
        let first = head - count as i64 + 1;
        if first == self.applied_seq + 1 {
            self.applied_seq = head;
        } else {
            self.catch_up_due = true;
        }
    }

    /// Applies and relays what other nodes stored after `applied_seq`, in order.
    async fn catch_up(&mut self, head: Option<i64>) {
        if head.is_some_and(|h| h <= self.applied_seq) {
            return;
        }
        if self.inflight.is_some() {
            self.catch_up_due = true;
            return;
        }
        self.catch_up_due = false;
        let read = match self
            .ctx
            .journal
            .read_after(&self.id, self.applied_seq)
            .await
        {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(doc = %self.id, %error, "catching up from the log failed");
                return;
            }
        };
        // Our own entries among these are in the document already, so the changes this
        // transaction makes are exactly what the other nodes added: relayed as one update.
        // Entries that fail the scan (`sync::nesting`) or do not decode are set aside, as
        // a load would set them aside.
        let mut refused = Vec::new();
        let applied = quarantine::guarded(|| {
            let mut txn = self.doc.transact_mut();
            if let Some((seq, data)) = read.snapshot {
                // Compacted past us: the snapshot holds what we lacked.
                match data.decode() {
                    Ok(update) => {
                        if let Err(error) = txn.apply_update(update) {
                            tracing::warn!(doc = %self.id, %error, "a snapshot could not be applied");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(doc = %self.id, %error, "a snapshot does not decode")
                    }
                }
                self.applied_seq = self.applied_seq.max(seq);
            }
            for (seq, data) in read.updates {
                if seq <= self.applied_seq {
                    continue;
                }
                self.compaction.logged(data.len());
                match crdt::decode_stored(&data) {
                    Ok(update) => {
                        if let Err(error) = txn.apply_update(update) {
                            tracing::warn!(doc = %self.id, %error, "a logged update could not be applied");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(doc = %self.id, %error, "a logged update does not decode");
                        refused.push(seq);
                    }
                }
                self.applied_seq = seq;
            }
            txn.encode_update_v1()
        });
        let relay = match applied {
            Ok(relay) => relay,
            Err(panicked) => return self.recover(panicked, None).await,
        };
        self.set_aside(&refused).await;
        if Update::decode_v1(&relay).is_ok_and(|u| !u.is_empty()) {
            let delivered = self.broadcast(&protocol::update(&relay), None);
            self.ctx
                .metrics
                .updates_relayed
                .fetch_add(delivered as u64, Relaxed);
        }
        self.maybe_compact().await;
    }

    /// Moves log entries that fail the scan or do not decode into quarantine.
    async fn set_aside(&self, seqs: &[i64]) {
        if seqs.is_empty() {
            return;
        }
        self.ctx
            .metrics
            .updates_quarantined
            .fetch_add(seqs.len() as u64, Relaxed);
        let reason = "refused by the update scan, or it does not decode";
        if let Err(error) = self.ctx.journal.quarantine(&self.id, seqs, reason).await {
            tracing::warn!(doc = %self.id, %error, "quarantining refused entries failed");
        }
    }

    fn on_remote(&mut self, notice: RemoteNotice) -> Option<RemoteNotice> {
        match notice {
            RemoteNotice::Awareness { node, message } => {
                let conn = self.remote_conn(&node);
                if let Ok(messages) = protocol::parse_frame(&message, Instant::now()) {
                    for inbound in messages {
                        if let Inbound::Awareness { update, .. } = inbound
                            && let Some(accepted) = self.presence.apply_remote(conn, &update)
                        {
                            self.broadcast(&protocol::awareness(accepted), None);
                        }
                    }
                }
                None
            }
            RemoteNotice::NodeGone { node } => {
                if let Some(conn) = self.remote_nodes.remove(&node)
                    && let Some(removal) = self.presence.remove_conn(conn)
                {
                    self.broadcast(&protocol::awareness(removal), None);
                }
                None
            }
            catch_up => Some(catch_up),
        }
    }

    fn remote_conn(&mut self, node: &str) -> ConnId {
        let next = REMOTE_CONN_BASE + self.remote_nodes.len() as ConnId;
        *self.remote_nodes.entry(node.to_owned()).or_insert(next)
    }

    /// Applies a stored batch to the `Doc` and relays it. A panic inside yrs hands the
    /// batch back untouched by the relay, for [`Room::recover`].
    fn apply_and_relay(&mut self, batch: Vec<Pending>) -> Result<(), Unapplied> {
        let metrics = Arc::clone(&self.ctx.metrics);
        let first = batch.first().map(|p| p.origin);
        let single_origin = first.filter(|&o| batch.iter().all(|p| p.origin == o));
        let anyone_else = self.peers.keys().any(|&conn| Some(conn) != single_origin);
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
        let id = &self.id;
        let applied = quarantine::guarded(|| {
            let mut txn = self.doc.transact_mut();
            for update in updates {
                if let Err(error) = txn.apply_update(update) {
                    tracing::warn!(doc = %id, %error, "a stored update could not be applied");
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
            let delivered = self.broadcast(&protocol::update(&update), single_origin);
            metrics
                .updates_relayed
                .fetch_add((delivered * relays.len()) as u64, Relaxed);
        } else if !merge && anyone_else {
            for relay in &relays {
                let delivered = self.broadcast(&protocol::update(&relay.raw), Some(relay.origin));
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

    /// A panic inside yrs left the `Doc` untrustworthy: it is rebuilt from the
    /// database, where the entries that panic are quarantined, and every connection is
    /// sent the rebuilt state. `batch` is the stored batch being applied, ending at log
    /// position `head`: a sender whose update was quarantined is closed with 4400 (its
    /// client would only send it again), the rest are told their change is in. If the
    /// document cannot be rebuilt, every connection is closed and the room ends.
    async fn recover(&mut self, panicked: Panicked, batch: Option<(i64, Vec<Relay>)>) {
        tracing::error!(doc = %self.id, %panicked, "applying updates panicked; rebuilding the document");
        self.ctx.metrics.apply_panics.fetch_add(1, Relaxed);
        let loaded = match self.ctx.journal.load(&self.id).await {
            Ok(Some(stored)) => Loaded::from_stored(&self.id, stored, &self.ctx).await,
            Ok(None) => None,
            Err(error) => {
                tracing::error!(doc = %self.id, %error, "reading the document to rebuild it failed");
                None
            }
        };
        let Some(loaded) = loaded else {
            self.suspect = true;
            self.close_all(CloseReason::new(
                close::TRY_AGAIN,
                "the document must be reloaded",
            ));
            if let Some((_, batch)) = batch {
                for done in batch.into_iter().filter_map(|r| r.done) {
                    let _ = done.send(Err("the document must be reloaded".into()));
                }
            }
            return;
        };
        self.doc = loaded.doc;
        self.applied_seq = loaded.applied_seq;
        self.compacted_seq = loaded.compacted_seq;
        self.compaction = loaded.compaction;
        if let Some((head, batch)) = batch {
            let first = head - batch.len() as i64 + 1;
            for (seq, relay) in (first..).zip(batch) {
                let refused = loaded.quarantined.contains(&seq);
                if refused {
                    self.disconnect(
                        relay.origin,
                        CloseReason::new(close::MALFORMED, "an update could not be applied"),
                    );
                }
                if let Some(done) = relay.done {
                    let _ = done.send(if refused {
                        Err("the change could not be applied".into())
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
        self.broadcast(&protocol::update(&state), None);
    }

    /// A batch that could not be stored is not applied or relayed. Its senders are
    /// disconnected: they still hold the updates and send them again when they re-sync.
    fn fail_batch(&mut self, batch: Vec<Pending>, error: StoreError) {
        tracing::error!(doc = %self.id, %error, updates = batch.len(), "storing updates failed");
        self.ctx.metrics.storage_failures.fetch_add(1, Relaxed);
        let mut origins = Vec::with_capacity(batch.len());
        for pending in batch {
            origins.push(pending.origin);
            if let Some(done) = pending.done {
                let _ = done.send(Err("the change could not be stored".into()));
            }
        }
        origins.dedup();
        for conn in origins {
            self.disconnect(
                conn,
                CloseReason::new(
                    close::TRY_AGAIN,
                    "the update could not be stored; reconnect",
                ),
            );
        }
    }

    /// Compacts when the log has grown enough since the last time (see
    /// [`CompactionPolicy`]).
    async fn maybe_compact(&mut self) {
        if !self.compaction.due(self.applied_seq - self.compacted_seq) {
            return;
        }
        let snapshot = Snapshot::of(&self.doc.transact());
        self.compaction.compacted(snapshot.data.len());
        let upto = self.applied_seq;
        let journal = Arc::clone(&self.ctx.journal);
        let metrics = Arc::clone(&self.ctx.metrics);
        let id = self.id.clone();
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

    /// Sends to every peer but `except`; returns how many got it.
    fn broadcast(&mut self, frame: &Bytes, except: Option<ConnId>) -> usize {
        let mut delivered = 0;
        let mut slow = Vec::new();
        for (&conn, peer) in &self.peers {
            if Some(conn) == except {
                continue;
            }
            match peer.outbox.try_send(frame.clone()) {
                Ok(()) => delivered += 1,
                Err(_) => slow.push(conn),
            }
        }
        for conn in slow {
            self.on_slow(conn);
        }
        delivered
    }

    fn send(&mut self, conn: ConnId, frame: Bytes) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        if peer.outbox.try_send(frame).is_err() {
            self.on_slow(conn);
        }
    }

    fn on_slow(&mut self, conn: ConnId) {
        self.ctx
            .metrics
            .slow_clients_disconnected
            .fetch_add(1, Relaxed);
        self.disconnect(
            conn,
            CloseReason::new(
                close::TRY_AGAIN,
                "the connection could not keep up; reconnect",
            ),
        );
    }

    fn disconnect(&mut self, conn: ConnId, reason: CloseReason) {
        if let Some(peer) = self.peers.get(&conn) {
            peer.close(reason);
        }
        self.leave(conn);
    }

    fn close_all(&mut self, reason: CloseReason) {
        for peer in self.peers.values() {
            peer.close(reason.clone());
        }
        self.peers.clear();
        self.presence = Presence::default();
    }

    /// Leaves the registry, answers what is still queued, stores what is in flight and
    /// compacts, so the next load starts from one snapshot.
    async fn unload(&mut self, commands: &mut mpsc::Receiver<RoomCommand>) {
        self.registry.unregister(&self.id, self.generation);
        commands.close();
        // Updates still queued from connections that are gone are stored all the same:
        // their senders believe them sent.
        while let Some(command) = commands.recv().await {
            match command {
                RoomCommand::Join { peer, reply, .. } => {
                    let _ = reply.send(Err(JoinError::Closed(peer)));
                }
                RoomCommand::Message {
                    conn,
                    message: Inbound::Update(incoming),
                    from,
                } if !incoming.update.is_empty() => {
                    self.queue_update(conn, incoming, from);
                }
                RoomCommand::Edit { make, done } => self.server_edit(make, done).await,
                RoomCommand::Read(reader) => reader(&self.doc),
                _ => {}
            }
        }
        loop {
            if self.inflight.is_some() {
                let (batch, outcome) = wait_inflight(&mut self.inflight).await;
                self.settle(batch, outcome).await;
            } else if !self.pending.is_empty() {
                self.start_commit().await;
            } else {
                break;
            }
        }
        if self.applied_seq > self.compacted_seq && !self.suspect {
            let snapshot = Snapshot::of(&self.doc.transact());
            match self
                .ctx
                .journal
                .compact(self.id.clone(), snapshot, self.applied_seq)
                .await
            {
                Ok(()) => {
                    self.ctx.metrics.compactions.fetch_add(1, Relaxed);
                }
                Err(error) => tracing::warn!(doc = %self.id, %error, "compaction at unload failed"),
            }
        }
        tracing::debug!(doc = %self.id, "room unloaded");
    }
}

/// Batches larger than this are relayed as one update, not one frame each: a burst (a
/// paste, a fast client) must not overflow the outboxes of clients that keep up.
const MERGE_ABOVE: usize = 32;

/// Runs the readers still queued on a room that is going away and refuses its joins.
fn drain_closed(commands: &mut mpsc::Receiver<RoomCommand>, doc: &Doc) {
    commands.close();
    while let Ok(command) = commands.try_recv() {
        match command {
            RoomCommand::Join { reply, .. } => {
                let _ = reply.send(Err(JoinError::Failed("the document was deleted".into())));
            }
            RoomCommand::Read(reader) => reader(doc),
            _ => {}
        }
    }
}

async fn wait_inflight(inflight: &mut Option<Inflight>) -> (Vec<Pending>, Result<i64, StoreError>) {
    match inflight {
        Some(current) => {
            let outcome = (&mut current.done)
                .await
                .unwrap_or(Err(StoreError::WriterGone));
            let batch = inflight.take().map(|i| i.batch).unwrap_or_default();
            (batch, outcome)
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "room_tests.rs"]
mod tests;
