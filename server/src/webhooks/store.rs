//! SQL for webhooks, their queued deliveries and every attempt.

use crate::ids::{DocId, WebhookId};
use crate::storage::{BeginWrite, Db, StoreError, Tx};
use crate::webhooks::model::{AttemptRow, DeliveryRow, DeliveryStatus, WebhookRow};
use crate::{on_pool, on_tx};

/// The columns of a [`DeliveryRow`].
macro_rules! delivery_columns {
    () => {
        "id, webhook_id, doc_id, event, payload, status, attempts, next_attempt_at, created_at"
    };
}

/// Takes up to `$2` due deliveries and moves them to `$3` (the lease), so no other
/// worker takes them while this one sends them. PostgreSQL skips rows another node is
/// taking at that moment; SQLite has one writer, so the statement alone is atomic.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id IN (SELECT id FROM webhook_deliveries \
     WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2 \
     FOR UPDATE SKIP LOCKED) RETURNING ",
    delivery_columns!()
);
const CLAIM_SQLITE: &str = concat!(
    "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id IN (SELECT id FROM webhook_deliveries \
     WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2) RETURNING ",
    delivery_columns!()
);

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer: done.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(i64),
    /// Failed for the last time.
    GaveUp,
}

impl Tx {
    /// Stores a new webhook as part of the caller's transaction.
    pub async fn insert_webhook(&mut self, row: &WebhookRow) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO webhooks (id, doc_id, url, events, secret, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&row.id)
            .bind(&row.doc_id)
            .bind(&row.url)
            .bind(&row.events)
            .bind(&row.secret)
            .bind(&row.created_by)
            .bind(row.created_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Removes a webhook of a document with its deliveries; false when there was none.
    pub async fn delete_webhook(
        &mut self,
        doc: &DocId,
        id: &WebhookId,
    ) -> Result<bool, StoreError> {
        let deleted = on_tx!(self, conn => {
            sqlx::query("DELETE FROM webhooks WHERE doc_id = $1 AND id = $2")
                .bind(doc.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }
}

impl Db {
    /// A document's webhooks, oldest first.
    pub async fn webhooks(&self, doc: &DocId) -> Result<Vec<WebhookRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRow>(
                "SELECT id, doc_id, url, events, secret, created_by, created_at FROM webhooks \
                 WHERE doc_id = $1 ORDER BY created_at, id",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        }))
    }

    /// One webhook by id (of any document: the worker's view).
    pub async fn webhook(&self, id: &WebhookId) -> Result<Option<WebhookRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, WebhookRow>(
                "SELECT id, doc_id, url, events, secret, created_by, created_at FROM webhooks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A webhook's deliveries (oldest first) and all their attempts.
    pub async fn deliveries(
        &self,
        webhook: &WebhookId,
    ) -> Result<(Vec<DeliveryRow>, Vec<AttemptRow>), StoreError> {
        Ok(on_pool!(self, pool => {
            let deliveries = sqlx::query_as::<_, DeliveryRow>(concat!(
                "SELECT ", delivery_columns!(), " FROM webhook_deliveries WHERE webhook_id = $1 \
                 ORDER BY created_at, id"
            ))
            .bind(webhook)
            .fetch_all(pool)
            .await?;
            let attempts = sqlx::query_as::<_, AttemptRow>(
                "SELECT a.delivery_id, a.attempt, a.at, a.http_status, a.error, a.duration_ms \
                 FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
                 WHERE d.webhook_id = $1 ORDER BY a.delivery_id, a.attempt",
            )
            .bind(webhook)
            .fetch_all(pool)
            .await?;
            (deliveries, attempts)
        }))
    }

    /// Takes up to `limit` deliveries due at `now`, leasing them until `lease_until`.
    pub async fn claim_due_deliveries(
        &self,
        now: i64,
        limit: i64,
        lease_until: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        Ok(match self {
            Db::Postgres(pool) => {
                sqlx::query_as::<_, DeliveryRow>(CLAIM_POSTGRES)
                    .bind(now)
                    .bind(limit)
                    .bind(lease_until)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, DeliveryRow>(CLAIM_SQLITE)
                    .bind(now)
                    .bind(limit)
                    .bind(lease_until)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// When the earliest pending delivery is due, if any is.
    pub async fn next_delivery_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending'",
            )
            .fetch_one(pool)
            .await?
        }))
    }

    /// Records one attempt and moves the delivery on, in one transaction.
    pub async fn record_attempt(
        &self,
        attempt: &AttemptRow,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let (status, next) = match outcome {
            AttemptOutcome::Delivered => (DeliveryStatus::Delivered, attempt.at),
            AttemptOutcome::RetryAt(at) => (DeliveryStatus::Pending, at),
            AttemptOutcome::GaveUp => (DeliveryStatus::Failed, attempt.at),
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, http_status, error, duration_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&attempt.delivery_id)
            .bind(attempt.attempt)
            .bind(attempt.at)
            .bind(attempt.http_status)
            .bind(&attempt.error)
            .bind(attempt.duration_ms)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4 WHERE id = $1",
            )
            .bind(&attempt.delivery_id)
            .bind(status.as_str())
            .bind(attempt.attempt)
            .bind(next)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
