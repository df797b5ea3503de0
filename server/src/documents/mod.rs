//! Documents: their rows, membership, content conversion and HTTP routes.
//!
//! The text itself is not here: it lives in the update log (`storage::journal`) and, while
//! anyone has the document open, in its room (`sync::room`). This module owns what the
//! relational side knows about a document and how its content is read out as Markdown,
//! HTML or text.

pub mod attribution;
pub mod changes;
pub mod content;
pub mod markdown;
pub mod model;
pub mod routes;
pub mod store;
pub mod word;

use futures_util::future::BoxFuture;

use crate::auth::Identity;
use crate::ids::{DocId, OrgId};
use crate::storage::StoreError;

/// Told when an organisation reads a document over HTTP or is given a role on it.
///
/// The remiss round records an invitee's first open (`remiss::activity::FirstOpens`
/// implements this and is registered in `App::build`); documents sit below remiss, so
/// they call it through this trait instead of importing it.
pub trait OpenTracker: Send + Sync {
    /// Someone of `who`'s organisation read the document; must not wait on storage.
    fn opened(&self, doc: &DocId, who: &Identity);
    /// `org` was given a role on a document it does not own: it is an invitee from
    /// now on, and its next open is checked against the database again.
    fn invited<'a>(
        &'a self,
        doc: &'a DocId,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

crate::sub_state! {
    /// What the document routes need of the server's state. Handlers take
    /// `State<DocumentsContext>`, which any state holding these handles provides
    /// (`sub_state`), so this module does not import the server's `AppState`.
    pub struct DocumentsContext {
        /// Storage: documents, members, the audit trail.
        pub db: crate::storage::Db,
        /// The open rooms: content is read from them and told of membership changes.
        pub rooms: crate::sync::RoomRegistry,
        /// The other nodes, told of membership changes and archiving.
        pub cluster: crate::cluster::Cluster,
        /// The creation quota for new documents.
        pub limits: std::sync::Arc<crate::limits::Limits>,
        /// Told of reads and invitations (remiss records first opens with it).
        pub opens: std::sync::Arc<dyn OpenTracker>,
    }
}
