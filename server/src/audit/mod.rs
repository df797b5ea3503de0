//! The audit trail: who did what to a document, and when, in an append-only log whose
//! entries are hash-chained (see [`chain`]), authenticated with a key kept outside the
//! database ([`key`]) and closed by a signed head ([`head`]).
//!
//! Handlers call [`record`] after their action has succeeded, or [`record_in`] inside the
//! transaction of the action itself. Entries are numbered per
//! document; two nodes appending at once race on the primary key and the loser retries
//! on top of the winner, so the chain stays linear without locking the document row
//! (which the update journal writes on every commit).

pub mod chain;
pub mod head;
pub mod key;
pub mod purge;
pub mod routes;

use serde::Serialize;

use crate::auth::Identity;
use crate::ids::DocId;
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// How often an append retries after losing a race for the next number.
const APPEND_ATTEMPTS: usize = 8;

/// Everything the trail records. The names are stored, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    DocumentCreated,
    DocumentArchived,
    MemberInvited,
    MemberRoleChanged,
    MemberRemoved,
    RemissChanged,
    FirstOpen,
    ThreadOpened,
    CommentAdded,
    CommentEdited,
    CommentDeleted,
    ThreadResolved,
    ThreadReopened,
    ThreadReanchored,
    ProposalAccepted,
    ProposalRejected,
    ResponseGiven,
    ResponseDeclined,
    ExtensionRequested,
    ExtensionGranted,
    ExtensionRefused,
    VersionSaved,
    ExportMade,
    WebhookRegistered,
    WebhookRemoved,
    WebhookDelivered,
    WebhookFailed,
}

impl Action {
    /// The stored name, e.g. `thread_opened`.
    pub fn as_str(self) -> &'static str {
        use Action::*;
        match self {
            DocumentCreated => "document_created",
            DocumentArchived => "document_archived",
            MemberInvited => "member_invited",
            MemberRoleChanged => "member_role_changed",
            MemberRemoved => "member_removed",
            RemissChanged => "remiss_changed",
            FirstOpen => "first_open",
            ThreadOpened => "thread_opened",
            CommentAdded => "comment_added",
            CommentEdited => "comment_edited",
            CommentDeleted => "comment_deleted",
            ThreadResolved => "thread_resolved",
            ThreadReopened => "thread_reopened",
            ThreadReanchored => "thread_reanchored",
            ProposalAccepted => "proposal_accepted",
            ProposalRejected => "proposal_rejected",
            ResponseGiven => "response_given",
            ResponseDeclined => "response_declined",
            ExtensionRequested => "extension_requested",
            ExtensionGranted => "extension_granted",
            ExtensionRefused => "extension_refused",
            VersionSaved => "version_saved",
            ExportMade => "export_made",
            WebhookRegistered => "webhook_registered",
            WebhookRemoved => "webhook_removed",
            WebhookDelivered => "webhook_delivered",
            WebhookFailed => "webhook_failed",
        }
    }
}

/// One stored entry, exactly as hashed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub action: String,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub org_id: Option<String>,
    /// Serialised JSON.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC of the entry under the audit key (`None` for entries from before keys).
    pub mac: Option<String>,
}

/// Appends one entry to the document's trail in a transaction of its own. `actor` is
/// `None` for the server's own doings (webhook deliveries). A use case that changes
/// other rows too calls [`record_in`] with its own transaction instead.
pub async fn record(
    db: &Db,
    doc: &DocId,
    actor: Option<&Identity>,
    action: Action,
    detail: serde_json::Value,
) -> Result<Entry, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut tx = db.transaction_for(doc).await?;
        match record_in(&mut tx, doc, actor, action, detail.clone()).await {
            Err(StoreError::Database(e))
                if is_unique_violation(&e) && attempt < APPEND_ATTEMPTS =>
            {
                continue;
            }
            result => {
                let entry = result?;
                tx.commit().await?;
                return Ok(entry);
            }
        }
    }
}

/// Appends one entry inside the caller's transaction `tx`, so it commits or rolls back
/// with the change it records. Chains it onto the signed head of the trail and moves the
/// head. The webhook deliveries an entry causes are queued by the use cases, which
/// record through `webhooks::record_in` (webhooks sit above the audit trail). On
/// PostgreSQL the document's lock ([`Tx::lock_document`]) orders concurrent appends,
/// because a caller's transaction cannot be retried from here after losing a race for the
/// number; callers begin with [`Db::transaction_for`] so it is taken before any row lock.
pub async fn record_in(
    tx: &mut Tx,
    doc: &DocId,
    actor: Option<&Identity>,
    action: Action,
    detail: serde_json::Value,
) -> Result<Entry, StoreError> {
    let mut entry = Entry {
        seq: 0,
        at: now_ms(),
        action: action.as_str().to_owned(),
        actor_id: actor.map(|a| a.user.to_string()),
        actor_name: actor.map(|a| a.name.clone()),
        org_id: actor.map(|a| a.org.to_string()),
        detail: detail.to_string(),
        prev_hash: String::new(),
        hash: String::new(),
        mac: None,
    };
    tx.lock_document(doc).await?;
    on_tx!(tx, conn => {
        let tip = crate::audit_tip!(conn, doc, entry).await?;
        tip.extend(doc.as_str(), &mut entry);
        sqlx::query(
            "INSERT INTO audit_log (doc_id, seq, at, action, actor_id, actor_name, org_id, detail, prev_hash, hash, mac) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(doc.as_str())
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.action)
        .bind(&entry.actor_id)
        .bind(&entry.actor_name)
        .bind(&entry.org_id)
        .bind(&entry.detail)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .bind(&entry.mac)
        .execute(&mut *conn)
        .await?;
        crate::audit_advance_head!(conn, doc, tip, &entry).await?;
    });
    Ok(entry)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// The whole trail of a document, oldest first.
pub async fn entries(db: &Db, doc: &DocId) -> Result<Vec<Entry>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Entry>(
            "SELECT seq, at, action, actor_id, actor_name, org_id, detail, prev_hash, hash, mac \
             FROM audit_log WHERE doc_id = $1 ORDER BY seq",
        )
        .bind(doc.as_str())
        .fetch_all(pool)
        .await?
    }))
}

crate::sub_state! {
    /// What the audit trail's routes need of the server's state. Handlers take
    /// `State<AuditContext>`, which any state holding these handles provides (`sub_state`),
    /// so this module does not import the server's `AppState`.
    pub struct AuditContext {
        /// Storage: the trail, its signed head.
        pub db: crate::storage::Db,
    }
}
