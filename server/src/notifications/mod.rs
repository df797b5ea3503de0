//! Notifications (issue 17): nothing in Förankra used to tell a förvaltning that a draft
//! was waiting for it, that someone answered its comment or that the owners decided on
//! it. Here every such event reaches the people it concerns, once, in the app's inbox
//! and by e-mail.
//!
//! - **Raised in the use case's transaction** ([`raise`]): `webhooks::record_in`, through
//!   which every use case appends its audit entry, calls [`raise::record_in`] with the
//!   entry, which writes the inbox rows and queues (or joins) the e-mails in the same
//!   transaction. A rolled-back action notifies nobody; a committed one cannot lose its
//!   notifications. Reminders before the svarsdatum are raised by `remiss::reminders`
//!   through [`raise::raise_in`].
//! - **The inbox** ([`store`], [`routes`]): newest first, paged, unread count, mark read.
//! - **E-mail** ([`outbox`], [`mail`]): a durable queue in the database; a worker per
//!   node leases due messages (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so two nodes send
//!   each once, retries with doubling waits, and gives up visibly (`GET /api/admin/mail`).
//!   Activities on one thread for one recipient within the batching window (10 minutes
//!   by default) go in one message. Each message has an unsubscribe link per kind
//!   ([`unsubscribe`]).
//! - **Live** ([`live`], [`stream`]): every open page of a user holds one event stream
//!   (`GET /api/me/events`) that sends the unread count and newest item as soon as a
//!   notification is raised or read, on any node.
//! - **Settings per user and kind** ([`model::Channel`]): in the app, by e-mail, both
//!   (the default) or neither; per user ([`preferences`]) the language of the e-mail
//!   (Swedish or English) and whether it goes at once or in one daily [`digest`].
//!
//! This module sits between `audit` and `webhooks` in the layering: it imports only
//! storage, auth, ids and the audit entry, and reads other modules' tables in SQL.

pub mod conversation;
pub mod digest;
pub mod live;
pub mod mail;
pub mod mail_en;
pub mod model;
pub mod outbox;
pub mod paragraph;
pub mod preferences;
pub mod raise;
pub mod routes;
pub mod store;
pub mod stream;
pub mod unsubscribe;

pub use model::{Channel, Kind};

/// How long a batched e-mail waits for more activities on its thread, by default.
pub const DEFAULT_BATCH_WINDOW_MS: i64 = 10 * 60 * 1000;

crate::sub_state! {
    /// What the notification routes need of the server's state.
    pub struct NotificationsContext {
        /// Storage: the inbox, settings, the outbox.
        pub db: crate::storage::Db,
        /// The open event streams: a mark-read rings them.
        pub bells: live::Bells,
        /// Cancelled at shutdown: open event streams end (graceful shutdown waits for them).
        pub shutdown: tokio_util::sync::CancellationToken,
    }
}

/// Writes this node's e-mail settings where the use cases read them (`settings`):
/// whether mail is on, the batching window and the daily digest's hour. Every node of a deployment is started
/// with the same settings; the last to start wins.
pub async fn publish_mail_policy(
    db: &crate::storage::Db,
    enabled: bool,
    batch_window: std::time::Duration,
    digest_hour: i8,
) -> Result<(), crate::storage::StoreError> {
    db.set_setting(digest::HOUR_KEY, &digest_hour.to_string())
        .await?;
    db.set_setting(raise::MAIL_ENABLED_KEY, if enabled { "on" } else { "off" })
        .await?;
    let window = i64::try_from(batch_window.as_millis()).unwrap_or(i64::MAX);
    db.set_setting(raise::BATCH_WINDOW_KEY, &window.to_string())
        .await
}
