//! Comment threads anchored to the text, with stances, proposals and resolutions.
//!
//! Threads are relational rows, never marks in the CRDT: a commenter needs no write
//! access to the document, and nobody can alter another organisation's comments by
//! editing text. A thread's anchor is a pair of Yjs relative positions made in the
//! browser; the server resolves it against the live document (`anchor`) to report the
//! paragraph, the quote and whether the text is still there. Every change is pushed to
//! the document's open sockets (`events`). Each change is one transaction with its audit
//! entry (`changes`), and comments are append-only (`revisions`).

pub mod anchor;
pub mod changes;
pub mod decisions;
pub mod events;
pub mod following;
pub mod mentions;
pub mod model;
pub mod proposal;
pub mod revisions;
pub mod routes;
pub mod span;
pub mod store;
pub mod suggestions;

crate::sub_state! {
    /// What the thread routes and live thread events need of the server's state. Handlers
    /// take `State<CommentsContext>`, which any state holding these handles provides
    /// (`sub_state`), so this module does not import the server's `AppState`.
    pub struct CommentsContext {
        /// Storage: threads, comments, the audit trail.
        pub db: crate::storage::Db,
        /// The open rooms: anchors resolve against the live text, events go out through them.
        pub rooms: crate::sync::RoomRegistry,
        /// The creation quota for new threads.
        pub limits: std::sync::Arc<crate::limits::Limits>,
        /// One decision on a document's proposals at a time.
        pub decisions: std::sync::Arc<decisions::Decisions>,
    }
}
