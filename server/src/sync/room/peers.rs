//! The room's connections: who is here, their outboxes, and their presence.
//!
//! Everything the room sends goes through [`Peers`], so one place decides what happens
//! to a client too slow to take a frame: it is closed (it re-syncs when it comes back),
//! never skipped, which would leave it diverged for good. Presence lives here too,
//! because it is per connection: a connection that leaves takes its awareness states
//! with it, and that removal is announced to the others and to the other nodes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use yrs::sync::awareness::AwarenessUpdate;

use crate::auth::Identity;
use crate::cluster::{Cluster, Notice};
use crate::ids::DocId;
use crate::metrics::Metrics;
use crate::sync::ConnId;
use crate::sync::authority::Authority;
use crate::sync::close::{self, CloseReason};
use crate::sync::hooks::MessageKind;
use crate::sync::presence::Presence;
use crate::sync::protocol;
use crate::sync::room::saving::Saving;

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
    /// Its updates queued and stored, and the "saved" markers it waits on.
    pub saving: Saving,
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
            saving: Saving::default(),
        }
    }

    pub(super) fn close(&self, reason: CloseReason) {
        self.close.send_replace(Some(reason));
    }
}

/// The connections of one room, with their presence.
pub(super) struct Peers {
    doc: DocId,
    cluster: Cluster,
    metrics: Arc<Metrics>,
    connections: HashMap<ConnId, Peer>,
    presence: Presence,
    /// When the last connection left, on tokio's clock (paused time in tests moves it).
    idle_since: Option<tokio::time::Instant>,
}

impl Peers {
    /// Nobody yet: idle from now.
    pub(super) fn new(doc: DocId, cluster: Cluster, metrics: Arc<Metrics>) -> Self {
        Self {
            doc,
            cluster,
            metrics,
            connections: HashMap::new(),
            presence: Presence::default(),
            idle_since: Some(tokio::time::Instant::now()),
        }
    }

    /// Since when nobody is connected; `None` while someone is.
    pub(super) fn idle_since(&self) -> Option<tokio::time::Instant> {
        self.idle_since
    }

    pub(super) fn contains(&self, conn: ConnId) -> bool {
        self.connections.contains_key(&conn)
    }

    /// Every connection, for re-deriving roles.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (&ConnId, &mut Peer)> {
        self.connections.iter_mut()
    }

    /// Whether anyone but `origin` (if given) would receive a relay.
    pub(super) fn anyone_but(&self, origin: Option<ConnId>) -> bool {
        self.connections.keys().any(|&conn| Some(conn) != origin)
    }

    /// Adds a connection and sends it the room's state vector and presence, which
    /// start its sync.
    pub(super) fn admit(&mut self, conn: ConnId, peer: Peer, step1: Bytes) {
        let presence = self.presence.snapshot().map(protocol::awareness);
        self.connections.insert(conn, peer);
        self.idle_since = None;
        self.send(conn, step1);
        if let Some(frame) = presence {
            self.send(conn, frame);
        }
    }

    /// Sends to every peer but `except`; returns how many got it.
    pub(super) fn broadcast(&mut self, frame: &Bytes, except: Option<ConnId>) -> usize {
        let mut delivered = 0;
        let mut slow = Vec::new();
        for (&conn, peer) in &self.connections {
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

    pub(super) fn send(&mut self, conn: ConnId, frame: Bytes) {
        let Some(peer) = self.connections.get(&conn) else {
            return;
        };
        if peer.outbox.try_send(frame).is_err() {
            self.on_slow(conn);
        }
    }

    /// Sends a live event to the connections subscribed to its kind.
    pub(super) fn publish_event(&mut self, kind: MessageKind, frame: &Bytes) {
        let subscribers: Vec<ConnId> = self
            .connections
            .iter()
            .filter(|(_, p)| p.subscriptions.contains(&kind))
            .map(|(&c, _)| c)
            .collect();
        for conn in subscribers {
            self.send(conn, frame.clone());
        }
    }

    fn on_slow(&mut self, conn: ConnId) {
        self.metrics.slow_clients_disconnected.fetch_add(1, Relaxed);
        self.disconnect(
            conn,
            CloseReason::new(
                close::TRY_AGAIN,
                "the connection could not keep up; reconnect",
            ),
        );
    }

    /// Closes the socket but keeps the connection until its task leaves (an update it
    /// sent before may still be stored).
    pub(super) fn close(&self, conn: ConnId, reason: CloseReason) {
        if let Some(peer) = self.connections.get(&conn) {
            peer.close(reason);
        }
    }

    /// Closes the socket and forgets the connection.
    pub(super) fn disconnect(&mut self, conn: ConnId, reason: CloseReason) {
        self.close(conn, reason);
        self.leave(conn);
    }

    /// Forgets a connection and announces that its presence is gone.
    pub(super) fn leave(&mut self, conn: ConnId) {
        if self.connections.remove(&conn).is_none() {
            return;
        }
        if let Some(removal) = self.presence.remove_conn(conn) {
            let message = protocol::awareness(removal);
            self.broadcast(&message, None);
            self.cluster
                .publish(Notice::awareness(self.doc.as_str(), &message));
        }
        if self.connections.is_empty() {
            self.idle_since = Some(tokio::time::Instant::now());
        }
    }

    /// Closes every connection and forgets every presence.
    pub(super) fn close_all(&mut self, reason: CloseReason) {
        for peer in self.connections.values() {
            peer.close(reason.clone());
        }
        self.connections.clear();
        self.presence = Presence::default();
    }

    /// Applies a connection's awareness update; relays to everyone (the sender too, see
    /// TECHNOTES) and to the other nodes only what it may set and what is new.
    pub(super) fn on_awareness(&mut self, conn: ConnId, update: &AwarenessUpdate) {
        let Some(user) = self.connections.get(&conn).map(|p| p.identity.user.clone()) else {
            return;
        };
        if let Some(accepted) = self.presence.apply(conn, user.as_str(), update) {
            let message = protocol::awareness(accepted);
            self.broadcast(&message, None);
            self.cluster
                .publish(Notice::awareness(self.doc.as_str(), &message));
        }
    }

    /// Applies an awareness update from another node's clients, standing behind `conn`.
    pub(super) fn on_remote_awareness(&mut self, conn: ConnId, update: &AwarenessUpdate) {
        if let Some(accepted) = self.presence.apply_remote(conn, update) {
            self.broadcast(&protocol::awareness(accepted), None);
        }
    }

    /// Forgets the presence behind a pseudo-connection of another node.
    pub(super) fn remove_remote(&mut self, conn: ConnId) {
        if let Some(removal) = self.presence.remove_conn(conn) {
            self.broadcast(&protocol::awareness(removal), None);
        }
    }

    /// Sends `conn` every live presence, if there is any.
    pub(super) fn send_presence(&mut self, conn: ConnId) {
        if let Some(update) = self.presence.snapshot() {
            self.send(conn, protocol::awareness(update));
        }
    }

    /// Subscribes `conn` to a live-event kind.
    pub(super) fn subscribe(&mut self, conn: ConnId, kind: MessageKind) {
        if let Some(peer) = self.connections.get_mut(&conn)
            && !peer.subscriptions.contains(&kind)
        {
            peer.subscriptions.push(kind);
        }
    }

    /// An update of `conn` was queued for the log.
    pub(super) fn queued(&mut self, conn: ConnId) {
        if let Some(peer) = self.connections.get_mut(&conn) {
            peer.saving.queued();
        }
    }

    /// An update of `conn` is stored: answers the markers now due.
    pub(super) fn stored(&mut self, conn: ConnId) {
        let Some(peer) = self.connections.get_mut(&conn) else {
            return;
        };
        for frame in peer.saving.stored() {
            self.send(conn, frame);
        }
    }

    /// `conn` asks to hear when what it sent so far is stored.
    pub(super) fn mark_saved(&mut self, conn: ConnId, marker: u64) {
        let Some(peer) = self.connections.get_mut(&conn) else {
            return;
        };
        if let Some(frame) = peer.saving.mark(marker) {
            self.send(conn, frame);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }
}
