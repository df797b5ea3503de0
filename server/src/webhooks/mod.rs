//! Webhooks: owners register an HTTPS URL for some of a document's events (a thread
//! opened, a comment added, a thread resolved, an organisation's response given), and the
//! server POSTs each event there, signed with HMAC-SHA256, retried with backoff.
//!
//! Events come from the audit trail: the transaction that appends an audit entry also
//! queues that entry's deliveries (`queue_webhook_deliveries!`), so every recorded event
//! is queued exactly once, and nothing is queued for an action that failed. Deliveries
//! are rows, not tasks: one worker per server (`delivery`) takes due rows (on PostgreSQL
//! with `FOR UPDATE SKIP LOCKED`, so two nodes never take the same one), sends them, and
//! records every attempt; a restart or a dead node loses nothing.

pub mod changes;
pub mod delivery;
pub mod model;
pub mod routes;
pub mod signature;
pub mod store;
pub mod target;

pub use model::Event;

use crate::audit::{Action, Entry};
use crate::auth::Identity;
use crate::ids::DocId;
use crate::on_tx;
use crate::storage::{StoreError, Tx};

/// Appends a use case's audit entry inside `tx` ([`crate::audit::record_in`]) and queues
/// the webhook deliveries it causes in the same transaction, so they commit or roll back
/// with it; the delivery worker is woken after the commit. Every use case records through
/// this, so an action given a webhook event ([`Event::for_action`]) is delivered whoever
/// records it; the notifications the entry causes are raised here too
/// ([`crate::notifications::raise::record_in`]). (Before issue 19 the audit trail queued them itself and so imported this
/// module, which imports the audit trail.)
pub async fn record_in(
    tx: &mut Tx,
    doc: &DocId,
    actor: Option<&Identity>,
    action: Action,
    detail: serde_json::Value,
) -> Result<Entry, StoreError> {
    let entry = crate::audit::record_in(tx, doc, actor, action, detail).await?;
    let queued = on_tx!(tx, conn => crate::queue_webhook_deliveries!(conn, doc, &entry).await?);
    if queued > 0 {
        tx.after_commit(delivery::wake);
    }
    if crate::notifications::raise::record_in(tx, doc, &entry).await? > 0 {
        tx.after_commit(crate::notifications::outbox::wake);
    }
    Ok(entry)
}

/// Queues the webhook deliveries of audit entry `$entry` of document `$doc` inside the
/// open transaction `$tx`, so they commit or roll back with the entry. A macro because
/// the statements are the same on both backends but the transaction types differ (the
/// `on_pool!` arms each expand it). Evaluates to `Result<usize, sqlx::Error>`: how many
/// deliveries were queued. Call [`delivery::wake`] after the commit.
#[macro_export]
macro_rules! queue_webhook_deliveries {
    ($tx:ident, $doc:expr, $entry:expr) => {
        async {
            let Some(event) = $crate::webhooks::Event::for_action(&$entry.action) else {
                return Ok::<usize, sqlx::Error>(0);
            };
            let hooks: Vec<($crate::ids::WebhookId, String)> =
                sqlx::query_as("SELECT id, events FROM webhooks WHERE doc_id = $1")
                    .bind($doc.as_str())
                    .fetch_all(&mut *$tx)
                    .await?;
            let mut queued = 0;
            for (webhook, events) in hooks {
                if !$crate::webhooks::model::wants(&events, event) {
                    continue;
                }
                let id = $crate::ids::DeliveryId::generate();
                let payload = $crate::webhooks::model::payload(&id, event, $doc, $entry);
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, webhook_id, doc_id, event, payload, status, attempts, \
                     next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
                )
                .bind(&id)
                .bind(&webhook)
                .bind($doc.as_str())
                .bind(event.as_str())
                .bind(&payload)
                .bind($entry.at)
                .execute(&mut *$tx)
                .await?;
                queued += 1;
            }
            Ok(queued)
        }
    };
}

crate::sub_state! {
    /// What the webhook routes need of the server's state. Handlers take
    /// `State<WebhooksContext>`, which any state holding these handles provides
    /// (`sub_state`), so this module does not import the server's `AppState`.
    pub struct WebhooksContext {
        /// Storage: webhooks, deliveries, the audit trail.
        pub db: crate::storage::Db,
        /// `--webhook-allow-http`, for the URL check.
        pub config: std::sync::Arc<crate::config::Config>,
    }
}
