//! Named versions: an owner saves the document as it stands ("Remissversion
//! 2020-11-01"), everyone reads it back as Markdown or compares two versions (or a
//! version and the live text) paragraph by paragraph.
//!
//! A version is the document's whole Yjs state, read through its room so it is exactly
//! what is durable, and never changed afterwards (the database refuses an `UPDATE`).
//! Reading one decodes that state into a fresh `Doc` and reuses the document renderer,
//! so a version's Markdown is what `GET …/markdown` said when it was saved. The diff
//! (`diff`) works on plain text per top-level block, the unit threads are anchored to.

pub mod changes;
pub mod diff;
pub mod model;
pub mod routes;
pub mod store;
