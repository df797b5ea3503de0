//! Documents: their rows, membership, content conversion and HTTP routes.
//!
//! The text itself is not here: it lives in the update log (`storage::journal`) and, while
//! anyone has the document open, in its room (`sync::room`). This module owns what the
//! relational side knows about a document and how its content is read out as Markdown,
//! HTML or text.

pub mod changes;
pub mod content;
pub mod markdown;
pub mod model;
pub mod routes;
pub mod store;
