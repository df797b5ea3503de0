//! SQL for the inbox, the settings and the outbox as the worker sees it.

use crate::ids::{MailId, NotificationId, UserId};
use crate::notifications::model::{Channel, Kind, MailRow, MailStatusResponse, NotificationRow};
use crate::on_pool;
use crate::storage::{Db, StoreError, now_ms};

/// The columns of [`NotificationRow`], with the document's title.
macro_rules! notification_select {
    ($tail:literal) => {
        concat!(
            "SELECT n.id, n.recipient_id, n.kind, n.doc_id, d.title AS doc_title, n.thread_id, n.payload, \
             n.created_at, n.read_at FROM notifications n JOIN documents d ON d.id = n.doc_id ",
            $tail
        )
    };
}

const CLAIM_POSTGRES: &str = "UPDATE email_outbox SET lease_owner = $3, lease_until = $4 WHERE id IN \
     (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
     RETURNING id, recipient_id, address, attempts";
const CLAIM_SQLITE: &str = "UPDATE email_outbox SET lease_owner = $3, lease_until = $4 WHERE id IN \
     (SELECT id FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at LIMIT $2) \
     RETURNING id, recipient_id, address, attempts";

/// What became of one sending attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    /// Failed; try again at this time (epoch ms).
    RetryAt(i64, String),
    /// Failed for good.
    GaveUp(String),
}

impl Db {
    /// A page of `user`'s inbox, newest first, older than `before` if given.
    pub async fn inbox(
        &self,
        user: &UserId,
        before: Option<&NotificationId>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let before = before.map(NotificationId::as_str).unwrap_or("");
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, NotificationRow>(notification_select!(
                "WHERE n.recipient_id = $1 AND n.in_app = 1 AND ($2 = '' OR n.id < $2) ORDER BY n.id DESC LIMIT $3"
            ))
            .bind(user.as_str())
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many of `user`'s notifications are unread.
    pub async fn unread_count(&self, user: &UserId) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM notifications WHERE recipient_id = $1 AND in_app = 1 AND read_at IS NULL",
            )
            .bind(user.as_str())
            .fetch_one(pool)
            .await?)
        })
    }

    /// Marks one of `user`'s notifications read; false if `user` has no such notification.
    pub async fn mark_read(&self, user: &UserId, id: &NotificationId) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let found: Option<String> = sqlx::query_scalar(
                "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND recipient_id = $2 \
                 AND in_app = 1 RETURNING id",
            )
            .bind(id.as_str())
            .bind(user.as_str())
            .bind(now_ms())
            .fetch_optional(pool)
            .await?;
            Ok(found.is_some())
        })
    }

    /// Marks all of `user`'s notifications read.
    pub async fn mark_all_read(&self, user: &UserId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL")
                .bind(user.as_str())
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// `user`'s channel for every kind, the default where none was chosen.
    pub async fn notification_settings(
        &self,
        user: &UserId,
    ) -> Result<Vec<(Kind, Channel)>, StoreError> {
        let chosen: Vec<(Kind, Channel)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT kind, channel FROM notification_settings WHERE user_id = $1")
                .bind(user.as_str())
                .fetch_all(pool)
                .await?
        });
        Ok(Kind::ALL
            .into_iter()
            .map(|kind| {
                let channel = chosen.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c);
                (kind, channel.unwrap_or(Channel::DEFAULT))
            })
            .collect())
    }

    /// Sets `user`'s channel for `kind`.
    pub async fn set_notification_channel(
        &self,
        user: &UserId,
        kind: Kind,
        channel: Channel,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO notification_settings (user_id, kind, channel, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, kind) DO UPDATE SET channel = excluded.channel, updated_at = excluded.updated_at",
            )
            .bind(user.as_str())
            .bind(kind)
            .bind(channel)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Leases up to `limit` due messages to `owner` until `lease_until`; on PostgreSQL
    /// rows another node is taking, or a transaction is joining, are skipped.
    pub async fn claim_due_mail(
        &self,
        now: i64,
        limit: i64,
        owner: &str,
        lease_until: i64,
    ) -> Result<Vec<MailRow>, StoreError> {
        Ok(match self {
            Db::Postgres(pool) => {
                sqlx::query_as::<_, MailRow>(CLAIM_POSTGRES)
                    .bind(now)
                    .bind(limit)
                    .bind(owner)
                    .bind(lease_until)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, MailRow>(CLAIM_SQLITE)
                    .bind(now)
                    .bind(limit)
                    .bind(owner)
                    .bind(lease_until)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// When the next message is due (or its lease ends), if any is pending.
    pub async fn next_mail_due(&self) -> Result<Option<i64>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
                 THEN lease_until ELSE next_attempt_at END) FROM email_outbox \
                 WHERE sent_at IS NULL AND failed_at IS NULL",
            )
            .fetch_one(pool)
            .await?)
        })
    }

    /// The notifications a message carries, oldest first.
    pub async fn mail_notifications(
        &self,
        mail: &MailId,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, NotificationRow>(notification_select!(
                "WHERE n.email_id = $1 ORDER BY n.id"
            ))
            .bind(mail.as_str())
            .fetch_all(pool)
            .await?)
        })
    }

    /// Records an attempt's outcome, if `owner` still holds the lease: a message whose
    /// lease ran out and was taken by another node is that node's to record.
    pub async fn record_mail_attempt(
        &self,
        mail: &MailId,
        owner: &str,
        outcome: &MailOutcome,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let (sent, failed, next, error) = match outcome {
            MailOutcome::Sent => (Some(now), None, None, None),
            MailOutcome::RetryAt(at, error) => (None, None, Some(*at), Some(error.as_str())),
            MailOutcome::GaveUp(error) => (None, Some(now), None, Some(error.as_str())),
        };
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE email_outbox SET attempts = attempts + 1, sent_at = $3, failed_at = $4, \
                 next_attempt_at = COALESCE($5, next_attempt_at), last_error = COALESCE($6, last_error), \
                 lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
            )
            .bind(mail.as_str())
            .bind(owner)
            .bind(sent)
            .bind(failed)
            .bind(next)
            .bind(error)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Messages that failed for good or are being retried, newest first (administrators).
    pub async fn troubled_mail(&self, limit: i64) -> Result<Vec<MailStatusResponse>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, MailStatusResponse>(
                "SELECT id, recipient_id, address, attempts, created_at, next_attempt_at, sent_at, failed_at, last_error \
                 FROM email_outbox WHERE failed_at IS NOT NULL OR (sent_at IS NULL AND attempts > 0) \
                 ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?)
        })
    }
}
