//! Recording what invitees do: first open. (The first comment is marked inside the
//! comment's own transaction, by `comments::changes`.)
//!
//! Every WebSocket join and every read of a document would otherwise be a database write.
//! A set of the (document, organisation) pairs already recorded by this node keeps that
//! to one write per pair per process lifetime, done in a spawned task so a join never
//! waits on it. The write itself only fills an empty column, so nodes racing on the same
//! pair (or a restarted node) record the first moment once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;

use crate::audit::Action;
use crate::auth::Identity;
use crate::consultation::store::FirstMoment;
use crate::documents::OpenTracker;
use crate::ids::{DocId, OrgId};
use crate::storage::{Db, StoreError};
use crate::sync::hooks::Extension;
use crate::webhooks;

/// The (document, organisation) pairs whose first open this node has already recorded.
#[derive(Debug, Clone, Default)]
pub struct SeenOpens(Arc<Mutex<HashSet<(DocId, OrgId)>>>);

impl SeenOpens {
    /// True if the pair was not in the set (and is now).
    fn insert(&self, doc: &DocId, org: &OrgId) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        seen.insert((doc.clone(), org.clone()))
    }

    /// Forgets a pair, so its next open is checked against the database again: after a
    /// failed write, and when the organisation is invited (it may have opened the
    /// document before, through a role of its own user).
    pub fn forget(&self, doc: &DocId, org: &OrgId) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        seen.remove(&(doc.clone(), org.clone()));
    }
}

/// Records first opens when someone joins a document's room or reads it over HTTP:
/// registered with the sync core (`sync::hooks`) and given to the document routes
/// ([`OpenTracker`]) when the server is built, so neither knows anything of remiss rounds.
#[derive(Clone)]
pub struct FirstOpens {
    db: Db,
    seen: SeenOpens,
}

impl FirstOpens {
    /// Records through `db`, remembering in `seen`.
    pub fn new(db: Db, seen: SeenOpens) -> Self {
        Self { db, seen }
    }
}

impl Extension for FirstOpens {
    fn on_join(&self, doc: &DocId, who: &Identity) {
        record(&self.db, &self.seen, doc, who);
    }
}

impl OpenTracker for FirstOpens {
    fn opened(&self, doc: &DocId, who: &Identity) {
        record(&self.db, &self.seen, doc, who);
    }

    fn invited<'a>(
        &'a self,
        doc: &'a DocId,
        org: &'a OrgId,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.db.record_invited(doc, org).await?;
            self.seen.forget(doc, org);
            Ok(())
        })
    }
}

fn record(db: &Db, seen: &SeenOpens, doc: &DocId, who: &Identity) {
    if !seen.insert(doc, &who.org) {
        return;
    }
    let db = db.clone();
    let seen = seen.clone();
    let doc = doc.clone();
    let who = who.clone();
    tokio::spawn(async move {
        if let Err(error) = record_open(&db, &doc, &who).await {
            tracing::warn!(doc = %doc, %error, "recording a first open failed");
            seen.forget(&doc, &who.org);
        }
    });
}

async fn record_open(db: &Db, doc: &DocId, who: &Identity) -> Result<(), StoreError> {
    let mut tx = db.transaction_for(doc).await?;
    if tx.record_first(doc, &who.org, FirstMoment::Opened).await? {
        let detail = serde_json::json!({ "org": who.org });
        webhooks::record_in(&mut tx, doc, Some(who), Action::FirstOpen, detail).await?;
    }
    tx.commit().await
}
