//! Live events: one call tells this node's connections and the other nodes.
//!
//! Every live change (a thread changed, the membership changed, the document was
//! archived) has two halves: the open room on this node, and a cluster notice for the
//! rooms on the others. [`Live`] does both in one call, so an event is wired once; the
//! cluster listener calls the local half for a notice from elsewhere, through the same
//! registry of [`Reloaders`] the product registered, never into product code directly.
//!
//! A live event's payload is not sent between nodes: the notice names the event (its
//! message kind and a key, such as a thread id, well under NOTIFY's 8000 bytes) and the
//! receiving node rebuilds the frame from the database with the kind's [`Reload`].

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::auth::Member;
use crate::cluster::{Cluster, Notice};
use crate::ids::DocId;
use crate::sync::close::CloseReason;
use crate::sync::hooks::MessageKind;
use crate::sync::protocol::write_var;
use crate::sync::registry::RoomRegistry;

/// One event for the connections that subscribed to its kind.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub kind: MessageKind,
    /// What names the event to another node's [`Reload`] (a thread id).
    pub key: String,
    /// The frame sent to each subscribed connection, type varuint first.
    pub frame: Bytes,
}

/// An event's frame as the web client reads it (`lib0`'s `readVarString`): the message
/// type as a varuint, then the JSON of `event` as a varuint length and its bytes.
pub fn json_frame(kind: MessageKind, event: &impl serde::Serialize) -> Bytes {
    let json = serde_json::to_vec(event).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 8);
    write_var(&mut out, kind.get());
    write_var(&mut out, json.len() as u64);
    out.extend_from_slice(&json);
    out.into()
}

/// Rebuilds, on another node, the frame of an event named by its key; `None` when there
/// is nothing to send (the thing is gone, or reading it failed, which the reload logs).
pub type Reload = Arc<dyn Fn(DocId, String) -> BoxFuture<'static, Option<Bytes>> + Send + Sync>;

/// The reloads of every registered message kind, handed to the cluster listener.
#[derive(Clone, Default)]
pub struct Reloaders(HashMap<MessageKind, Reload>);

impl Reloaders {
    /// Registers how `kind`'s events are rebuilt from a notice.
    #[must_use]
    pub fn with(mut self, kind: MessageKind, reload: Reload) -> Self {
        self.0.insert(kind, reload);
        self
    }

    fn get(&self, kind: MessageKind) -> Option<&Reload> {
        self.0.get(&kind)
    }
}

/// The façade for live events; cheap to clone.
#[derive(Clone)]
pub struct Live {
    rooms: RoomRegistry,
    cluster: Cluster,
}

impl Live {
    /// Publishes through `rooms` here and `cluster` to the other nodes.
    pub fn new(rooms: RoomRegistry, cluster: Cluster) -> Self {
        Self { rooms, cluster }
    }

    /// Sends `event` to the document's subscribed connections here and tells the other
    /// nodes. A document not open here has nobody connected to tell.
    pub async fn publish(&self, doc: &DocId, event: LiveEvent) {
        self.cluster.publish(Notice::Event {
            d: doc.to_string(),
            c: event.kind.get(),
            id: event.key,
        });
        self.rooms.send_event(doc, event.kind, event.frame).await;
    }

    /// Hands the new membership to the document's room here and on the other nodes.
    pub async fn members_changed(&self, doc: &DocId, members: Vec<Member>) {
        self.rooms.members_changed(doc, members).await;
        self.cluster.publish(Notice::Members { d: doc.to_string() });
    }

    /// Closes every connection to the document here and on the other nodes.
    pub async fn archived(&self, doc: &DocId, reason: CloseReason) {
        self.rooms.close_document(doc, reason).await;
        self.cluster
            .publish(Notice::Archived { d: doc.to_string() });
    }

    /// The local half of an event another node published: rebuilt with its kind's
    /// reload and sent to the subscribed connections here. An unregistered kind (a newer
    /// node's) is ignored.
    pub async fn deliver_remote(&self, reloaders: &Reloaders, doc: DocId, kind: u64, key: String) {
        let Some(kind) = MessageKind::custom(kind) else {
            return;
        };
        let Some(reload) = reloaders.get(kind) else {
            return;
        };
        if self.rooms.get(&doc).is_none() {
            return;
        }
        if let Some(frame) = reload(doc.clone(), key).await {
            self.rooms.send_event(&doc, kind, frame).await;
        }
    }
}
