//! The mail worker: one task per server that sends due e-mails from the outbox over SMTP.
//!
//! A message is taken by leasing it (`lease_owner`, `lease_until`) in the statement that
//! selects it; on PostgreSQL that statement skips rows another node is taking or a
//! transaction is still joining (`FOR UPDATE SKIP LOCKED`), so two nodes never send the
//! same message. The message is written from its inbox rows, sent outside any
//! transaction, and its outcome recorded only while this worker still holds the lease.
//! A node that dies between the SMTP server's acceptance and that record leaves the
//! message to be sent again when the lease ends: the one duplicate this design allows,
//! and the reason the `Message-ID` is the outbox id (mail clients drop repeated ids).
//!
//! Failures are retried with doubling waits ([`retry_wait`]); a permanent refusal (5xx)
//! or [`MAX_ATTEMPTS`] failures give the message up, kept with its error for the
//! administrators (`GET /api/admin/mail`). Rows are the queue, so a restart loses nothing.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use crate::ids::UserId;
use crate::notifications::mail::{self, Links};
use crate::notifications::model::{Kind, MailRow};
use crate::notifications::store::MailOutcome;
use crate::notifications::unsubscribe;
use crate::storage::queue::{self, Queue};
use crate::storage::{Db, StoreError, now_ms};

/// How long a leased message is left to its worker before another may take it: longer
/// than [`SMTP_TIMEOUT`] with room to write the message.
pub const LEASE: Duration = Duration::from_secs(120);

/// How long one SMTP conversation may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i64 = 8;

/// The mail queue: retries wait at most six hours.
static QUEUE: Queue = Queue::new("notification mail", Duration::from_secs(6 * 3600));

/// Tells the workers that mail was queued.
pub fn wake() {
    QUEUE.wake();
}

/// How the worker is set up.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port` (plain, or `?tls=required` for STARTTLS), `smtps://host:port`
    /// (TLS from the start); user and password in the URL if the server wants them.
    pub smtp_url: SecretString,
    /// The sender, e.g. `Förankra <forankra@stad.se>`.
    pub from: Mailbox,
    /// The web app's public address, for links.
    pub public_url: String,
    /// The wait after a first failed attempt; doubled after each further one.
    pub retry_base: Duration,
}

/// Errors setting the worker up.
#[derive(Debug, thiserror::Error)]
pub enum MailSetupError {
    #[error("--smtp-url is not a usable SMTP URL: {0}")]
    SmtpUrl(String),
}

/// The wait after failed attempt number `attempt` (1-based): `base`, doubled after each
/// further failure, at most six hours.
pub fn retry_wait(base: Duration, attempt: i64) -> Duration {
    QUEUE.backoff(base, attempt)
}

/// Builds the SMTP transport the URL names (checked at start, so a typo fails the start).
pub fn transport(url: &SecretString) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailSetupError> {
    Ok(
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|e| MailSetupError::SmtpUrl(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build(),
    )
}

/// Runs the worker until `shutdown`.
pub async fn run(
    db: Db,
    settings: MailSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    shutdown: CancellationToken,
) {
    let worker = Worker {
        owner: crate::ids::new_id(),
        db,
        settings,
        transport,
    };
    QUEUE.work(&shutdown, || worker.send_due()).await;
}

struct Worker {
    /// This worker's lease name.
    owner: String,
    db: Db,
    settings: MailSettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

/// The links of one recipient's message.
struct RecipientLinks<'a> {
    base: &'a str,
    key: &'a str,
    user: &'a UserId,
}

impl Links for RecipientLinks<'_> {
    fn web(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn unsubscribe(&self, kind: Kind) -> String {
        let token = unsubscribe::sign(self.key, self.user, kind);
        format!("{}/api/notifications/unsubscribe?token={token}", self.base)
    }
}

impl Worker {
    /// Sends every due message, a batch at a time; returns when the next one is due.
    async fn send_due(&self) -> Result<Option<i64>, StoreError> {
        let key = unsubscribe::key(&self.db).await?;
        loop {
            let now = now_ms();
            let lease_until = now + i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
            let batch = self
                .db
                .claim_due_mail(now, queue::BATCH, &self.owner, lease_until)
                .await?;
            if batch.is_empty() {
                return self.db.next_mail_due().await;
            }
            for mail in batch {
                if let Err(error) = self.attempt(&mail, &key).await {
                    tracing::error!(%error, mail = %mail.id, "recording a mail attempt failed");
                }
            }
        }
    }

    /// Writes, sends and records one message.
    async fn attempt(&self, mail: &MailRow, key: &str) -> Result<(), StoreError> {
        let items = self.db.mail_notifications(&mail.id).await?;
        let outcome = if items.is_empty() {
            // Its document was deleted with its notifications: nothing left to say.
            MailOutcome::GaveUp("nothing left to send: the notifications are gone".into())
        } else {
            let links = RecipientLinks {
                base: self.settings.public_url.trim_end_matches('/'),
                key,
                user: &mail.recipient_id,
            };
            let language = self.db.user_preferences(&mail.recipient_id).await?.language;
            let composed = mail::compose(&items, &links, mail::words(language));
            match self.send(mail, composed).await {
                Ok(()) => MailOutcome::Sent,
                Err(failure) => self.after_failure(mail, failure),
            }
        };
        if let MailOutcome::GaveUp(error) = &outcome {
            tracing::warn!(mail = %mail.id, %error, "a notification e-mail was given up");
        }
        if !self
            .db
            .record_mail_attempt(&mail.id, &self.owner, &outcome)
            .await?
        {
            tracing::warn!(mail = %mail.id, "the lease ran out before the attempt was recorded");
        }
        Ok(())
    }

    fn after_failure(&self, mail: &MailRow, failure: Failure) -> MailOutcome {
        let number = mail.attempts + 1;
        let error = queue::error_text(&failure.text);
        if failure.permanent || number >= MAX_ATTEMPTS {
            MailOutcome::GaveUp(error)
        } else {
            let wait = retry_wait(self.settings.retry_base, number);
            MailOutcome::RetryAt(
                now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
                error,
            )
        }
    }

    async fn send(&self, mail: &MailRow, composed: mail::Composed) -> Result<(), Failure> {
        let to: Mailbox = mail.address.parse().map_err(|e| Failure {
            text: format!("the address `{}` is not valid: {e}", mail.address),
            permanent: true,
        })?;
        let message = Message::builder()
            .from(self.settings.from.clone())
            .to(to)
            .subject(composed.subject)
            .message_id(Some(format!("<{}@forankra>", mail.id)))
            .multipart(MultiPart::alternative_plain_html(
                composed.text,
                composed.html,
            ))
            .map_err(|e| Failure {
                text: format!("the message could not be built: {e}"),
                permanent: true,
            })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| Failure {
                text: format!("the SMTP server refused or failed: {e}"),
                permanent: e.is_permanent(),
            })
    }
}

/// Why a message was not sent.
struct Failure {
    text: String,
    /// A 5xx answer or a message that can never be sent: retrying cannot help.
    permanent: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_double_from_the_base_and_are_capped() {
        let base = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=4).map(|n| retry_wait(base, n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240]);
        assert_eq!(retry_wait(base, 40), Duration::from_secs(6 * 3600));
        assert_eq!(retry_wait(base, 0), base);
    }

    #[tokio::test]
    async fn smtp_urls_of_every_form_are_accepted_and_nonsense_is_not() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example:587?tls=required",
            "smtps://u:p@mail.example:465",
        ] {
            assert!(transport(&SecretString::from(url)).is_ok(), "{url}");
        }
        assert!(transport(&SecretString::from("http://mail.example")).is_err());
    }
}
