//! Named versions: an owner saves the document as it stands ("Remissversion
//! 2020-11-01"), everyone reads it back as Markdown or compares two versions (or a
//! version and the live text) paragraph by paragraph.
//!
//! A version is the document's whole Yjs state, read through its room so it is exactly
//! what is durable, and never changed afterwards (the database refuses an `UPDATE`).
//! Reading one decodes that state into a fresh `Doc` and reuses the document renderer,
//! so a version's Markdown is what `GET …/markdown` said when it was saved. The diff
//! (`diff`) works on plain text per top-level block, the unit threads are anchored to.

pub mod authors;
pub mod changes;
pub mod diff;
pub mod model;
pub mod routes;
pub mod store;

crate::sub_state! {
    /// What the version routes need of the server's state. Handlers take
    /// `State<VersionsContext>`, which any state holding these handles provides
    /// (`sub_state`), so this module does not import the server's `AppState`.
    pub struct VersionsContext {
        /// Storage: the versions, the audit trail.
        pub db: crate::storage::Db,
        /// The open rooms: a version is the room's whole state.
        pub rooms: crate::sync::RoomRegistry,
    }
}
