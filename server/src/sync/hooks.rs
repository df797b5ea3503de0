//! How product code attaches to the sync core: extensions and custom message types,
//! registered once when the server is built.
//!
//! The sync core (protocol, connection, room, registry, journal) knows no product. What
//! a product wants to happen when someone joins, when updates are committed or when a
//! document's membership changes, it registers here as an [`Extension`], in the spirit
//! of Hocuspocus's extensions; a message type beyond y-protocols' 0–3 that a client sends
//! to subscribe to a product's live events is registered as a [`MessageKind`].
//!
//! The order is part of the contract, and it is the same for every extension:
//! - **on join** runs on the room's task after the connection was admitted (token,
//!   document, role: `sync::connection`) and the room accepted it (the room's own
//!   membership check) and sent it the sync step 1 and presence, before any message of
//!   that connection is handled. A connection the room refuses is never reported.
//! - **on committed** runs on the room's task after the journal acknowledged the commit,
//!   the `Doc` applied the batch and every other connection was handed the relay: a hook
//!   sees only what is durable, and can never delay a peer's copy of an update (the
//!   relay is the latency path; a hook is not). A batch that failed to store is not
//!   reported; other nodes' entries read in catch-up are reported on their own node.
//! - **on members** runs on the room's task after the room re-derived every connection's
//!   role and closed those whose access is gone or changed.
//!
//! Extensions run in the order they were registered. Every hook is synchronous: the room
//! task never awaits product code, because every connection of the document waits on
//! that task. A hook with slow work (a database write) spawns it, as the first-open
//! recording does.

use std::sync::Arc;

use crate::auth::{Identity, Member};
use crate::ids::DocId;

/// A batch the journal committed and the room relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// The log's sequence number of the batch's last update.
    pub head: i64,
    /// How many updates the batch held.
    pub updates: usize,
}

/// Product code that reacts to a room's life; every method defaults to doing nothing.
/// See the module comment for when each runs.
pub trait Extension: Send + Sync + 'static {
    /// `who` joined `doc`'s room on this node.
    fn on_join(&self, _doc: &DocId, _who: &Identity) {}
    /// A batch of `doc`'s updates is stored and relayed.
    fn on_committed(&self, _doc: &DocId, _committed: Committed) {}
    /// `doc`'s membership changed and its connections were brought in line.
    fn on_members(&self, _doc: &DocId, _members: &[Member]) {}
}

/// A y-websocket message type a product owns (y-protocols' own are 0–3). A client that
/// sends a message of a registered kind (any payload) subscribes to the live events the
/// product publishes under that kind (`sync::live`); a stock client never sends one, so it
/// never sees a message type it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageKind(u64);

/// y-protocols' message types are 0 (sync) to 3 (awareness query).
const FIRST_CUSTOM_KIND: u64 = 4;

impl MessageKind {
    /// A product's message type; `None` for one of y-protocols' own and for the sync
    /// core's "saved" marker (`protocol::MSG_SAVED`).
    pub const fn custom(kind: u64) -> Option<Self> {
        if kind >= FIRST_CUSTOM_KIND && kind != crate::sync::protocol::MSG_SAVED {
            Some(Self(kind))
        } else {
            None
        }
    }

    /// The varuint written on the wire.
    pub const fn get(self) -> u64 {
        self.0
    }
}

/// Everything registered with the sync core; built once, shared by every room.
#[derive(Clone, Default)]
pub struct Hooks {
    extensions: Vec<Arc<dyn Extension>>,
    subscriptions: Vec<MessageKind>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("extensions", &self.extensions.len())
            .field("subscriptions", &self.subscriptions)
            .finish()
    }
}

impl Hooks {
    /// Adds an extension after those already registered.
    #[must_use]
    pub fn extension(mut self, extension: impl Extension) -> Self {
        self.extensions.push(Arc::new(extension));
        self
    }

    /// Registers a message type clients send to subscribe to that kind's live events.
    #[must_use]
    pub fn subscription(mut self, kind: MessageKind) -> Self {
        if !self.subscriptions.contains(&kind) {
            self.subscriptions.push(kind);
        }
        self
    }

    /// The registered kind a client's message type `kind` stands for, if any.
    pub fn subscription_for(&self, kind: u64) -> Option<MessageKind> {
        self.subscriptions.iter().copied().find(|k| k.get() == kind)
    }

    pub(crate) fn joined(&self, doc: &DocId, who: &Identity) {
        for extension in &self.extensions {
            extension.on_join(doc, who);
        }
    }

    pub(crate) fn committed(&self, doc: &DocId, committed: Committed) {
        for extension in &self.extensions {
            extension.on_committed(doc, committed);
        }
    }

    pub(crate) fn members_changed(&self, doc: &DocId, members: &[Member]) {
        for extension in &self.extensions {
            extension.on_members(doc, members);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Log(Arc<Mutex<Vec<String>>>);

    struct Named(&'static str, Arc<Mutex<Vec<String>>>);

    impl Extension for Named {
        fn on_committed(&self, doc: &DocId, committed: Committed) {
            let line = format!("{} {doc} {}", self.0, committed.head);
            self.1.lock().expect("log").push(line);
        }
    }

    #[test]
    fn extensions_run_in_registration_order() {
        let log = Log::default();
        let hooks = Hooks::default()
            .extension(Named("first", Arc::clone(&log.0)))
            .extension(Named("second", Arc::clone(&log.0)));
        let doc = DocId::parse("d1").expect("an id");
        hooks.committed(
            &doc,
            Committed {
                head: 7,
                updates: 1,
            },
        );
        assert_eq!(*log.0.lock().expect("log"), ["first d1 7", "second d1 7"]);
    }

    #[test]
    fn only_custom_message_types_can_be_registered() {
        assert_eq!(MessageKind::custom(3), None);
        // The sync core's own "saved" marker.
        assert_eq!(MessageKind::custom(101), None);
        let events = MessageKind::custom(100).expect("custom");
        let hooks = Hooks::default().subscription(events);
        assert_eq!(hooks.subscription_for(100), Some(events));
        assert_eq!(hooks.subscription_for(101), None);
    }
}
