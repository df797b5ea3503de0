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
            let hooks: Vec<(String, String)> =
                sqlx::query_as("SELECT id, events FROM webhooks WHERE doc_id = $1")
                    .bind($doc.as_str())
                    .fetch_all(&mut *$tx)
                    .await?;
            let mut queued = 0;
            for (webhook, events) in hooks {
                if !$crate::webhooks::model::wants(&events, event) {
                    continue;
                }
                let id = $crate::ids::new_id();
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
