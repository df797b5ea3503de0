//! Word from other nodes: their clients' presence, and the log entries they stored.
//!
//! Another node's updates reach this room only through the log (the notice says how
//! far it goes), so they are applied in log order like our own and a node that missed a
//! notice catches up at the next one. Their clients' presence stands behind one
//! pseudo-connection per node, which goes when that node falls silent.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use yrs::updates::decoder::Decode;
use yrs::{Transact, Update};

use crate::sync::ConnId;
use crate::sync::crdt;
use crate::sync::protocol::{self, Inbound};
use crate::sync::quarantine;

use super::peers::Peers;
use super::replica::Replica;
use super::{Env, RemoteNotice};

/// Pseudo-connection ids for other nodes' clients in `presence`, far above real ones.
const REMOTE_CONN_BASE: ConnId = 1 << 62;

/// What the room knows of the other nodes.
#[derive(Default)]
pub(super) struct Remote {
    /// The pseudo-connection standing for each other node's clients in the presence.
    nodes: HashMap<String, ConnId>,
    /// A catch-up is due once the commit in flight is done.
    due: bool,
}

impl Remote {
    /// Handles a presence notice; hands back a catch-up notice for [`Remote::catch_up`].
    pub(super) fn on_notice(
        &mut self,
        notice: RemoteNotice,
        peers: &mut Peers,
    ) -> Option<Option<i64>> {
        match notice {
            RemoteNotice::Awareness { node, message } => {
                let conn = self.conn_for(&node);
                if let Ok(messages) = protocol::parse_frame(&message, Instant::now()) {
                    for inbound in messages {
                        if let Inbound::Awareness { update, .. } = inbound {
                            peers.on_remote_awareness(conn, &update);
                        }
                    }
                }
                None
            }
            RemoteNotice::NodeGone { node } => {
                if let Some(conn) = self.nodes.remove(&node) {
                    peers.remove_remote(conn);
                }
                None
            }
            RemoteNotice::CatchUp { head } => Some(head),
        }
    }

    fn conn_for(&mut self, node: &str) -> ConnId {
        let next = REMOTE_CONN_BASE + self.nodes.len() as ConnId;
        *self.nodes.entry(node.to_owned()).or_insert(next)
    }

    /// Remembers to catch up once the commit in flight is done.
    pub(super) fn set_due(&mut self) {
        self.due = true;
    }

    /// Whether a catch-up waits for the commit in flight.
    pub(super) fn is_due(&self) -> bool {
        self.due
    }

    /// Applies and relays what other nodes stored after the replica's position, in
    /// order. While a commit of ours is in flight (`committing`), it waits for it.
    pub(super) async fn catch_up(
        &mut self,
        head: Option<i64>,
        committing: bool,
        env: &Env,
        replica: &mut Replica,
        peers: &mut Peers,
    ) {
        if head.is_some_and(|h| h <= replica.applied_seq) {
            return;
        }
        if committing {
            self.due = true;
            return;
        }
        self.due = false;
        let read = match env
            .ctx
            .journal
            .read_after(&env.id, replica.applied_seq)
            .await
        {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(doc = %env.id, %error, "catching up from the log failed");
                return;
            }
        };
        // Our own entries among these are in the document already, so the changes this
        // transaction makes are exactly what the other nodes added: relayed as one update.
        // Entries that fail the scan (`sync::nesting`) or do not decode are set aside, as
        // a load would set them aside.
        let mut refused = Vec::new();
        let mut applied_seq = replica.applied_seq;
        let mut logged = 0;
        let applied = quarantine::guarded(|| {
            let mut txn = replica.doc.transact_mut();
            if let Some((seq, data)) = read.snapshot {
                // Compacted past us: the snapshot holds what we lacked.
                match data.decode() {
                    Ok(update) => {
                        if let Err(error) = txn.apply_update(update) {
                            tracing::warn!(doc = %env.id, %error, "a snapshot could not be applied");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(doc = %env.id, %error, "a snapshot does not decode")
                    }
                }
                applied_seq = applied_seq.max(seq);
            }
            for (seq, data) in read.updates {
                if seq <= applied_seq {
                    continue;
                }
                logged += data.len();
                match crdt::decode_stored(&data) {
                    Ok(update) => {
                        if let Err(error) = txn.apply_update(update) {
                            tracing::warn!(doc = %env.id, %error, "a logged update could not be applied");
                        }
                    }
                    Err(error) => {
                        tracing::warn!(doc = %env.id, %error, "a logged update does not decode");
                        refused.push(seq);
                    }
                }
                applied_seq = seq;
            }
            txn.encode_update_v1()
        });
        replica.caught_up(applied_seq, logged);
        let relay = match applied {
            Ok(relay) => relay,
            Err(panicked) => return replica.recover(env, peers, panicked, None).await,
        };
        set_aside(env, &refused).await;
        if Update::decode_v1(&relay).is_ok_and(|u| !u.is_empty()) {
            let delivered = peers.broadcast(&protocol::update(&relay), None);
            env.ctx
                .metrics
                .updates_relayed
                .fetch_add(delivered as u64, Relaxed);
        }
        replica.maybe_compact(env);
    }
}

/// Moves log entries that fail the scan or do not decode into quarantine.
async fn set_aside(env: &Env, seqs: &[i64]) {
    if seqs.is_empty() {
        return;
    }
    env.ctx
        .metrics
        .updates_quarantined
        .fetch_add(seqs.len() as u64, Relaxed);
    let reason = "refused by the update scan, or it does not decode";
    if let Err(error) = env.ctx.journal.quarantine(&env.id, seqs, reason).await {
        tracing::warn!(doc = %env.id, %error, "quarantining refused entries failed");
    }
}
