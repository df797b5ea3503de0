//! The delivery worker: one task per server that sends due deliveries and records how
//! each attempt went.
//!
//! A delivery is taken by moving its due time past [`LEASE`] (longer than a request may
//! take), in the same statement that selects it; on PostgreSQL that statement skips rows
//! another node is taking (`FOR UPDATE SKIP LOCKED`). The request is made outside any
//! transaction; its outcome is then written with the next due time. A node that dies
//! mid-request leaves the delivery to be taken again when the lease ends: deliveries are
//! at least once, and receivers deduplicate by `X-Forankra-Delivery`.
//!
//! The worker sleeps until the earliest pending delivery is due, or until [`wake`] says
//! something was queued; a queue filled by another node is seen within the queue's poll (15 s).

use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::audit::{self, Action};
use crate::storage::queue::{self, Queue};
use crate::storage::{Db, StoreError, now_ms};
use crate::webhooks::model::{AttemptRow, DeliveryRow};
use crate::webhooks::signature::sign;
use crate::webhooks::store::AttemptOutcome;
use crate::webhooks::target::{self, CheckedResolver};

/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a taken delivery is left to its worker before another may take it.
pub const LEASE: Duration = Duration::from_secs(60);

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// The deliveries' queue: retries wait at most an hour.
static QUEUE: Queue = Queue::new("webhook deliveries", Duration::from_secs(3600));

/// Tells the workers that deliveries were queued.
pub fn wake() {
    QUEUE.wake();
}

/// How the worker is set up.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// The wait after a first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// `--webhook-allow-http`: deliver to http:// and to internal addresses too.
    pub allow_internal: bool,
}

/// The wait after failed attempt number `attempt` (1-based).
pub fn backoff(base: Duration, attempt: i64) -> Duration {
    QUEUE.backoff(base, attempt)
}

/// Runs the worker until `shutdown`.
pub async fn run(db: Db, settings: DeliverySettings, shutdown: CancellationToken) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the name itself, past the check.
        .no_proxy()
        .dns_resolver(CheckedResolver::shared(settings.allow_internal))
        .user_agent(concat!("forankra-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook deliveries are off: no HTTP client");
            return;
        }
    };
    let worker = Worker {
        db,
        settings,
        client,
    };
    QUEUE.work(&shutdown, || worker.deliver_due()).await;
}

struct Worker {
    db: Db,
    settings: DeliverySettings,
    client: reqwest::Client,
}

impl Worker {
    /// Sends every due delivery, a batch at a time; returns when the next one is due.
    async fn deliver_due(&self) -> Result<Option<i64>, StoreError> {
        loop {
            let now = now_ms();
            let lease_until = now + i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
            let batch = self
                .db
                .claim_due_deliveries(now, queue::BATCH, lease_until)
                .await?;
            if batch.is_empty() {
                return self.db.next_delivery_due().await;
            }
            futures_util::future::join_all(batch.into_iter().map(|d| self.attempt(d))).await;
        }
    }

    /// Makes one attempt and records it; failures to record are logged (the lease
    /// brings the delivery back).
    async fn attempt(&self, delivery: DeliveryRow) {
        if let Err(error) = self.try_attempt(&delivery).await {
            tracing::error!(%error, delivery = %delivery.id, "recording a webhook attempt failed");
        }
    }

    async fn try_attempt(&self, delivery: &DeliveryRow) -> Result<(), StoreError> {
        let Some(hook) = self.db.webhook(&delivery.webhook_id).await? else {
            return Ok(()); // removed meanwhile; its deliveries went with it
        };
        let number = delivery.attempts + 1;
        let started = Instant::now();
        let at = now_ms();
        let (http_status, error) = self.post(&hook.url, &hook.secret, delivery, at).await;
        let attempt = AttemptRow {
            delivery_id: delivery.id.clone(),
            attempt: number,
            at,
            http_status,
            error,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        };
        let outcome = if attempt.error.is_none() {
            AttemptOutcome::Delivered
        } else if number >= MAX_ATTEMPTS {
            AttemptOutcome::GaveUp
        } else {
            let wait = backoff(self.settings.retry_base, number);
            AttemptOutcome::RetryAt(at + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
        };
        self.db.record_attempt(&attempt, outcome).await?;
        self.audit(delivery, &attempt, outcome).await
    }

    /// POSTs the stored body, signed; `(status, None)` on a 2xx answer, otherwise what went wrong.
    /// The URL is checked again as at registration (a literal address never reaches the
    /// resolver; a name is checked there); a refused one is a failed attempt.
    async fn post(
        &self,
        url: &str,
        secret: &str,
        delivery: &DeliveryRow,
        at: i64,
    ) -> (Option<i64>, Option<String>) {
        if let Err(refused) = target::check(url, self.settings.allow_internal) {
            return (None, Some(format!("the URL is refused: {refused}")));
        }
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Forankra-Event", delivery.event.as_str())
            .header("X-Forankra-Delivery", delivery.id.as_str())
            .header("X-Forankra-Timestamp", at.to_string())
            .header("X-Forankra-Signature", sign(secret, at, &delivery.payload))
            .body(delivery.payload.clone())
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                let code = Some(i64::from(status.as_u16()));
                if status.is_success() {
                    (code, None)
                } else {
                    (code, Some(format!("the receiver answered {status}")))
                }
            }
            Err(error) => {
                let kind = if error.is_timeout() {
                    "timed out"
                } else {
                    "failed"
                };
                let text = queue::error_text(&format!("the request {kind}: {error}"));
                (None, Some(text))
            }
        }
    }

    /// Writes the attempt to the document's audit trail.
    async fn audit(
        &self,
        delivery: &DeliveryRow,
        attempt: &AttemptRow,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let action = match outcome {
            AttemptOutcome::Delivered => Action::WebhookDelivered,
            _ => Action::WebhookFailed,
        };
        let detail = json!({
            "webhook": delivery.webhook_id,
            "delivery": delivery.id,
            "event": delivery.event.as_str(),
            "attempt": attempt.attempt,
            "httpStatus": attempt.http_status,
            "error": attempt.error,
            "willRetry": matches!(outcome, AttemptOutcome::RetryAt(_)),
        });
        audit::record(&self.db, &delivery.doc_id, None, action, detail).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_millis(1000);
        let waits: Vec<u64> = (1..=4)
            .map(|n| backoff(base, n).as_millis() as u64)
            .collect();
        assert_eq!(waits, [1000, 2000, 4000, 8000]);
        assert_eq!(backoff(base, 40), Duration::from_secs(3600));
        assert_eq!(backoff(base, 0), base);
    }
}
