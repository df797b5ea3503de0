//! One open document: the task that owns its `Doc`, presence and connections.
//!
//! Every change to a room goes through its command channel, so the state needs no lock.
//! The task is split by the state each part owns, and this module only dispatches:
//!
//! | part | owns |
//! | --- | --- |
//! | [`inbox`] | the two lanes commands arrive in, and which goes first |
//! | [`peers`] | the connections, their outboxes and presence, and when the room went idle |
//! | [`pipeline`] | the updates queued and the commit in flight; applies and relays a stored batch |
//! | [`replica`] | the `Doc` and its log position; rebuilds it after a panic, compacts it |
//! | [`full_state`] | the whole `Doc` encoded for clients that hold nothing, kept until it changes |
//! | [`catch_up`] | what the other nodes said: their presence, and the log entries to read |
//! | [`second_look`] | updates under another user's client id, held until the room has caught up |
//!
//! An update from an editor travels `connection` → [`pipeline`] → `update_log` (the
//! journal) → [`peers`]; see the first of those for why it is applied only once stored.

mod catch_up;
mod full_state;
mod inbox;
mod peers;
mod pipeline;
mod replica;
mod saving;
mod second_look;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use yrs::{Doc, ReadTxn, Transact};

use crate::auth::{Member, Role, access::effective_role};
use crate::cluster::Cluster;
use crate::ids::DocId;
use crate::metrics::Metrics;
use crate::sync::ConnId;
use crate::sync::authority::Authority;
use crate::sync::authorship::{Author, Foreign};
use crate::sync::close::{self, CloseReason};
use crate::sync::hooks::{Hooks, MessageKind};
use crate::sync::protocol::{self, Inbound, IncomingUpdate};
use crate::sync::registry::{RoomError, RoomRegistry};
use crate::sync::update_log::UpdateLog;

pub use inbox::{COMMAND_CAPACITY, Inbox, Lanes, inbox};
pub use peers::Peer;

use catch_up::Remote;
use peers::Peers;
use pipeline::{Pipeline, Queued};
use replica::{Opening, Replica};
use second_look::{Held, SecondLook};

/// Why a join did not happen.
pub enum JoinError {
    /// The room is unloading; the peer is handed back to try a fresh room.
    Closed(Peer),
    /// The document could not be loaded.
    Failed(String),
}

/// A closure run against the room's `Doc`.
pub type DocReader = Box<dyn FnOnce(&Doc) + Send>;
/// A closure computing a server-made update from the room's `Doc` (without changing it),
/// or `None` when it declines: its reason stays with whoever made the closure, typed
/// (`RoomRegistry::edit` hands it back), since the room has no use for it.
pub type DocEditor = Box<dyn FnOnce(&Doc) -> Option<Vec<u8>> + Send>;

/// Where a room answers a server-made change.
pub type EditDone = oneshot::Sender<Result<(), EditError>>;

/// Why a server-made change was not made. Each kind asks something different of the
/// caller, so each maps to its own HTTP status (`error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The editor declined (the text it works on is not what it expected).
    #[error("the edit was declined")]
    Declined,
    /// The document nests too deep to edit safely and is read-only (`sync::nesting`).
    #[error("the document nests too deep to be edited")]
    ReadOnly,
    /// The update the editor made does not decode: a bug in the editor.
    #[error("the update made for the edit does not decode")]
    Malformed(#[source] yrs::encoding::read::Error),
    /// The change could not be stored; nothing was applied, and it may be tried again.
    #[error("the change could not be stored")]
    NotStored,
    /// Applying the stored change panicked inside yrs; it was quarantined.
    #[error("the change could not be applied")]
    NotApplied,
    /// Applying a batch panicked and the document could not be rebuilt: the room closed.
    #[error("the document must be reloaded")]
    MustReload,
    /// The document was deleted before the change was made.
    #[error("the document was deleted")]
    Deleted,
    /// The editor's update writes under a client id another user's updates are bound
    /// to (`sync::authorship`): a bug in the editor, or a one-in-billions collision.
    #[error("the change could not be attributed: {0}")]
    Unattributable(#[source] Foreign),
    /// The room could not be reached, could not load the document, or went away
    /// before it answered (the server is stopping).
    #[error(transparent)]
    Room(#[from] RoomError),
}

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
    /// Whether direct edits are now for owners only (the owners require suggestions in
    /// the current phase): set on every connection and on those that join later.
    OwnersOnly(bool),
    /// Read the document (exports, anchors).
    Read(DocReader),
    /// A change made by the server (an accepted proposal): `make` computes the update
    /// from the current document; `done` hears once it is stored and relayed.
    Edit {
        make: DocEditor,
        /// Who the change is made for, and attributed to.
        author: Author,
        done: EditDone,
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

/// What every part of a room reads: which document, and the server around it.
pub(super) struct Env {
    pub(super) id: DocId,
    pub(super) ctx: RoomContext,
}

/// The state of one open document, each part owning its own.
pub struct Room {
    env: Env,
    generation: u64,
    registry: RoomRegistry,
    replica: Replica,
    peers: Peers,
    pipeline: Pipeline,
    remote: Remote,
    second_look: SecondLook,
    members: Option<Vec<Member>>,
    /// The last rule on direct edits the room was told (`None`: never told; each
    /// connection keeps what its admission read).
    owners_only: Option<bool>,
}

/// Loads the document and serves commands until the room unloads.
pub async fn run(
    id: DocId,
    generation: u64,
    registry: RoomRegistry,
    ctx: RoomContext,
    mut commands: Inbox,
) {
    let env = Env { id, ctx };
    let replica = match Replica::load(&env).await {
        Opening::Ready(replica) => replica,
        Opening::NoSuchDocument => {
            let why = "no such document";
            return refuse_all(&env.id, generation, &registry, commands, why).await;
        }
        Opening::Unreadable => {
            let why = "the document could not be loaded";
            return refuse_all(&env.id, generation, &registry, commands, why).await;
        }
    };
    env.ctx.metrics.rooms_open.fetch_add(1, Relaxed);
    let peers = Peers::new(
        env.id.clone(),
        env.ctx.cluster.clone(),
        Arc::clone(&env.ctx.metrics),
    );
    let mut room = Room {
        env,
        generation,
        registry,
        replica,
        peers,
        pipeline: Pipeline::default(),
        remote: Remote::default(),
        second_look: SecondLook::default(),
        members: None,
        owners_only: None,
    };
    room.serve(&mut commands).await;
    room.env.ctx.metrics.rooms_open.fetch_sub(1, Relaxed);
}

async fn refuse_all(
    id: &DocId,
    generation: u64,
    registry: &RoomRegistry,
    mut commands: Inbox,
    why: &str,
) {
    registry.unregister(id, generation);
    commands.close();
    while let Some(command) = commands.recv().await {
        match command {
            RoomCommand::Join { reply, .. } => {
                let _ = reply.send(Err(JoinError::Failed(why.to_owned())));
            }
            RoomCommand::Edit { done, .. } => {
                let _ = done.send(Err(RoomError::Unavailable(why.to_owned()).into()));
            }
            _ => {}
        }
    }
}

impl Room {
    async fn serve(&mut self, commands: &mut Inbox) {
        let shutdown = self.env.ctx.shutdown.clone();
        loop {
            let idle_deadline = self.unload_deadline();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(RoomCommand::Close(reason)) => {
                        self.peers.close_all(reason);
                        self.registry.unregister(&self.env.id, self.generation);
                        drain_closed(commands, &self.replica.doc);
                        return;
                    }
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                result = self.pipeline.committed() => self.on_committed(result).await,
                () = sleep_until_opt(idle_deadline) => break,
                () = shutdown.cancelled() => {
                    self.peers.close_all(CloseReason::new(close::RESTARTING, "the server is restarting"));
                    break;
                }
            }
            if self.replica.suspect {
                break;
            }
        }
        self.unload(commands).await;
    }

    fn unload_deadline(&self) -> Option<tokio::time::Instant> {
        let idle = self.peers.is_empty() && self.pipeline.is_idle() && self.second_look.is_empty();
        match (idle, self.peers.idle_since()) {
            (true, Some(since)) => Some(since + self.env.ctx.settings.idle_unload),
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
            RoomCommand::Leave { conn } => self.peers.leave(conn),
            RoomCommand::Members(members) => self.on_members(members),
            RoomCommand::OwnersOnly(owners_only) => {
                self.owners_only = Some(owners_only);
                for (_, peer) in self.peers.iter_mut() {
                    peer.authority.set_owners_only(owners_only);
                }
            }
            RoomCommand::Read(reader) => reader(&self.replica.doc),
            RoomCommand::Edit { make, author, done } => {
                let (env, replica) = (&self.env, &mut self.replica);
                self.pipeline
                    .on_edit(make, author, done, env, replica, &mut self.peers)
                    .await;
            }
            RoomCommand::Event { kind, frame } => self.peers.publish_event(kind, &frame),
            RoomCommand::Remote(notice) => {
                if let Some(head) = self.remote.on_notice(notice, &mut self.peers) {
                    let committing = self.pipeline.is_committing();
                    self.remote
                        .catch_up(
                            head,
                            committing,
                            &self.env,
                            &mut self.replica,
                            &mut self.peers,
                        )
                        .await;
                }
            }
            RoomCommand::Close(_) => {}
        }
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
        if let Some(owners_only) = self.owners_only {
            peer.authority.set_owners_only(owners_only);
        }
        let step1 = protocol::sync_step1(self.replica.doc.transact().state_vector());
        let identity = peer.identity.clone();
        self.peers.admit(conn, peer, step1);
        self.env.ctx.hooks.joined(&self.env.id, &identity);
    }

    async fn on_message(&mut self, conn: ConnId, message: Inbound, from: Authority) {
        if !self.peers.contains(conn) {
            return;
        }
        match message {
            Inbound::SyncStep1(sv) if sv.is_empty() => {
                let step2 = self.replica.full_state.step2(&self.replica.doc);
                self.peers.send(conn, step2);
            }
            Inbound::SyncStep1(sv) => {
                let diff = self.replica.doc.transact().encode_diff_v1(&sv);
                self.peers.send(conn, protocol::sync_step2(diff));
            }
            // Every client answers the server's step 1 with a step 2, usually empty:
            // nothing to store or relay.
            Inbound::Update(incoming) if incoming.update.is_empty() => {}
            Inbound::Update(incoming) => self.on_update(conn, incoming, from).await,
            Inbound::Awareness { update, .. } => self.peers.on_awareness(conn, &update),
            Inbound::AwarenessQuery => self.peers.send_presence(conn),
            Inbound::Saved(marker) => self.peers.mark_saved(conn, marker),
            Inbound::Custom(kind) => {
                if let Some(kind) = self.env.ctx.hooks.subscription_for(kind) {
                    self.peers.subscribe(conn, kind);
                }
            }
            Inbound::Ignored => {}
        }
    }

    /// A client's update: queued for the next commit, or held for a second look.
    async fn on_update(&mut self, conn: ConnId, incoming: IncomingUpdate, from: Authority) {
        if self.second_look.holds(conn) {
            self.peers.queued(conn);
            let held = Held {
                origin: conn,
                incoming,
                author: from,
            };
            return self.second_look.hold(held);
        }
        let (env, replica) = (&self.env, &mut self.replica);
        match self
            .pipeline
            .queue(conn, incoming, from, env, replica, &self.peers)
        {
            Queued::Yes => {
                self.peers.queued(conn);
                if !self.pipeline.is_committing() {
                    self.pipeline.start_commit(env, &mut self.peers).await;
                }
            }
            Queued::No => {}
            Queued::Doubtful(doubt) => {
                self.peers.queued(conn);
                self.second_look.hold(doubt.held);
                self.look_again().await;
            }
        }
    }

    /// Catches up from the log and checks the held updates again, in order; those still
    /// under another user's client id are refused. Waits while a commit is in flight
    /// (its outcome comes back through [`Room::on_committed`], which calls this again).
    async fn look_again(&mut self) {
        if self.second_look.is_empty() || self.pipeline.is_committing() {
            return;
        }
        let Self {
            env,
            replica,
            peers,
            pipeline,
            remote,
            second_look,
            ..
        } = self;
        remote.catch_up(None, false, env, replica, peers).await;
        let mut refused = Vec::new();
        let mut queued = false;
        for held in second_look.take() {
            if refused.contains(&held.origin) {
                continue;
            }
            let origin = held.origin;
            match pipeline.queue(origin, held.incoming, held.author, env, replica, peers) {
                Queued::Yes => queued = true,
                Queued::No => {}
                Queued::Doubtful(doubt) => {
                    pipeline::refuse(doubt, env, peers);
                    refused.push(origin);
                }
            }
        }
        if queued {
            pipeline.start_commit(env, peers).await;
        }
    }

    /// Re-derives every connection's role. A connection that lost access closes with
    /// 4403; one whose role changed closes with 4100, so its client reconnects and learns
    /// what it may now do (an editor's page that silently turned read-only would let
    /// its user type into the void). From the moment of the change, updates from a
    /// connection no longer allowed to edit are dropped.
    fn on_members(&mut self, members: Vec<Member>) {
        let mut closing = Vec::new();
        for (&conn, peer) in self.peers.iter_mut() {
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
            self.peers.disconnect(conn, reason);
        }
        self.env.ctx.hooks.members_changed(&self.env.id, &members);
        self.members = Some(members);
    }

    /// A commit came back: its batch is settled, then the next commit starts, or the
    /// catch-up it held back runs.
    ///
    /// After a clean commit the next one starts first, so the database stores one batch
    /// while this room applies and relays the one before (on two cores the B4 push
    /// took the sum of both). Not when a catch-up or a second look waits: they run only
    /// between commits, and a room under constant load would never reach them.
    async fn on_committed(&mut self, (batch, outcome): pipeline::Outcome) {
        let (env, peers) = (&self.env, &mut self.peers);
        if outcome.is_ok() && self.second_look.is_empty() && !self.remote.is_due() {
            self.pipeline.start_commit(env, peers).await;
        }
        let settled = pipeline::settle(batch, outcome, env, &mut self.replica, peers).await;
        if settled.behind {
            self.remote.set_due();
        }
        if let Some(doubt) = settled.doubt {
            let origin = doubt.held.origin;
            let mut earlier = vec![doubt.held];
            earlier.extend(self.pipeline.withdraw(origin));
            self.second_look.hold_first(earlier);
        }
        if settled.applied {
            self.replica.maybe_compact(env);
        }
        if self.replica.suspect {
            return;
        }
        self.look_again().await;
        if self.pipeline.is_committing() {
            // Started above: the rest waits until that commit settles.
            return;
        }
        let (env, peers) = (&self.env, &mut self.peers);
        if !self.pipeline.next_commit(env, peers).await && self.remote.is_due() {
            let replica = &mut self.replica;
            self.remote.catch_up(None, false, env, replica, peers).await;
        }
    }

    /// Leaves the registry, answers what is still queued, stores what is in flight and
    /// compacts, so the next load starts from one snapshot.
    async fn unload(&mut self, commands: &mut Inbox) {
        self.registry.unregister(&self.env.id, self.generation);
        commands.close();
        let Self {
            env,
            replica,
            peers,
            pipeline,
            second_look,
            ..
        } = self;
        // Held updates get their second look without a catch-up: one still under
        // another user's client id is refused.
        for held in second_look.take() {
            let queued =
                pipeline.queue(held.origin, held.incoming, held.author, env, replica, peers);
            if let Queued::Doubtful(doubt) = queued {
                pipeline::refuse(doubt, env, peers);
            }
        }
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
                    let queued = pipeline.queue(conn, incoming, from, env, replica, peers);
                    if let Queued::Doubtful(doubt) = queued {
                        pipeline::refuse(doubt, env, peers);
                    }
                }
                RoomCommand::Edit { make, author, done } => {
                    pipeline
                        .on_edit(make, author, done, env, replica, peers)
                        .await;
                }
                RoomCommand::Read(reader) => reader(&replica.doc),
                _ => {}
            }
        }
        pipeline.flush(env, replica, peers).await;
        replica.compact_at_unload(env).await;
        tracing::debug!(doc = %env.id, "room unloaded");
    }
}

/// Runs the readers still queued on a room that is going away and refuses its joins
/// and edits.
fn drain_closed(commands: &mut Inbox, doc: &Doc) {
    commands.close();
    while let Some(command) = commands.try_recv() {
        match command {
            RoomCommand::Join { reply, .. } => {
                let _ = reply.send(Err(JoinError::Failed("the document was deleted".into())));
            }
            RoomCommand::Edit { done, .. } => {
                let _ = done.send(Err(EditError::Deleted));
            }
            RoomCommand::Read(reader) => reader(doc),
            _ => {}
        }
    }
}

async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests;
