//! The notification vocabulary (kinds, channels), the rows and the JSON the API speaks.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::ids::{DocId, MailId, NotificationId, ThreadId, UserId};

/// What a notification is about. The words are stored, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// My organisation (or I) was invited to a document's remiss.
    RemissInvited,
    /// A new reply in a thread I follow (I wrote in it, opened it, or follow it or its
    /// document, and did not unfollow it).
    ThreadReply,
    /// A comment @mentioned me or my organisation.
    Mentioned,
    /// A new thread in a document I follow.
    ThreadOpened,
    /// A new thread or reply on a paragraph my organisation commented on.
    ParagraphActivity,
    /// A thread of my organisation, or one I wrote in, was resolved with an outcome.
    ThreadResolved,
    /// A proposal in a thread of my organisation, or one I wrote in, was accepted or rejected.
    ProposalDecided,
    /// An invited organisation answered (to the owners).
    StatementReceived,
    /// The svarsdatum is near (or passed yesterday) and my organisation has not answered.
    DeadlineReminder,
    /// The owners moved the round's phase or svarsdatum (to the invitees).
    RoundChanged,
    /// An invited organisation asked for a later svarsdatum (to the owners).
    ExtensionRequested,
    /// The owners granted or refused my organisation a later svarsdatum.
    ExtensionDecided,
}

crate::vocabulary::text_vocabulary!(Kind, "notification kind" {
    RemissInvited = "remiss_invited",
    ThreadReply = "thread_reply",
    Mentioned = "mentioned",
    ThreadOpened = "thread_opened",
    ParagraphActivity = "paragraph_activity",
    ThreadResolved = "thread_resolved",
    ProposalDecided = "proposal_decided",
    StatementReceived = "statement_received",
    DeadlineReminder = "deadline_reminder",
    RoundChanged = "round_changed",
    ExtensionRequested = "extension_requested",
    ExtensionDecided = "extension_decided",
});

impl Kind {
    /// Every kind, in the order the settings page lists them.
    pub const ALL: [Kind; 12] = [
        Kind::RemissInvited,
        Kind::Mentioned,
        Kind::ThreadReply,
        Kind::ThreadOpened,
        Kind::ParagraphActivity,
        Kind::ThreadResolved,
        Kind::ProposalDecided,
        Kind::StatementReceived,
        Kind::DeadlineReminder,
        Kind::RoundChanged,
        Kind::ExtensionRequested,
        Kind::ExtensionDecided,
    ];

    /// Whether e-mails of this kind wait for the batching window so that later
    /// activities on the same thread join them. Invitations and reminders are about a
    /// date and go at once.
    pub fn batched(self) -> bool {
        matches!(
            self,
            Kind::ThreadReply
                | Kind::ThreadOpened
                | Kind::ParagraphActivity
                | Kind::ThreadResolved
                | Kind::ProposalDecided
        )
    }
}

/// Where a user wants one kind of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InApp,
    Email,
    Both,
    None,
}

crate::vocabulary::text_vocabulary!(Channel, "notification channel" {
    InApp = "in_app",
    Email = "email",
    Both = "both",
    None = "none",
});

impl Channel {
    /// What a user gets who never chose.
    pub const DEFAULT: Channel = Channel::Both;

    /// Whether the inbox shows it.
    pub fn in_app(self) -> bool {
        matches!(self, Channel::InApp | Channel::Both)
    }

    /// Whether it is sent by e-mail.
    pub fn email(self) -> bool {
        matches!(self, Channel::Email | Channel::Both)
    }

    /// The channel left after unsubscribing from e-mail.
    pub fn without_email(self) -> Channel {
        match self {
            Channel::Both | Channel::InApp => Channel::InApp,
            Channel::Email | Channel::None => Channel::None,
        }
    }
}

/// One row of `notifications`, as the inbox and the mail composer read it (with the
/// document's title).
#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: NotificationId,
    pub recipient_id: UserId,
    pub kind: Kind,
    pub doc_id: DocId,
    pub doc_title: String,
    pub thread_id: Option<ThreadId>,
    pub payload: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A notification in the inbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationResponse {
    #[schema(value_type = String)]
    pub id: NotificationId,
    pub kind: Kind,
    #[schema(value_type = String)]
    pub document_id: DocId,
    pub document_title: String,
    #[schema(value_type = Option<String>)]
    pub thread_id: Option<ThreadId>,
    /// What happened: `by`, `byOrg`, `outcome`, `motivation`, `deadline`, `excerpt`…
    /// depending on the kind.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The web app's path to the document (and thread), e.g. `/d/ID?thread=TID`.
    pub link: String,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

impl NotificationRow {
    /// The API's form; a payload that does not parse shows as `null` (it was written by
    /// this module, so that would be a bug worth seeing, not a reason to hide the row).
    pub fn into_response(self) -> NotificationResponse {
        let link = link_path(&self.doc_id, self.thread_id.as_ref());
        NotificationResponse {
            payload: serde_json::from_str(&self.payload).unwrap_or(serde_json::Value::Null),
            id: self.id,
            kind: self.kind,
            document_id: self.doc_id,
            document_title: self.doc_title,
            thread_id: self.thread_id,
            link,
            created_at: self.created_at,
            read_at: self.read_at,
        }
    }
}

/// The web app's path to a document, and to one of its threads.
pub fn link_path(doc: &DocId, thread: Option<&ThreadId>) -> String {
    match thread {
        Some(thread) => format!("/d/{doc}?thread={thread}"),
        None => format!("/d/{doc}"),
    }
}

/// `GET /api/notifications`: the unread count and a page of the inbox, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxResponse {
    pub unread: i64,
    pub items: Vec<NotificationResponse>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[schema(value_type = Option<String>)]
    pub next_before: Option<NotificationId>,
}

/// The answer to marking read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnreadResponse {
    pub unread: i64,
}

/// One kind's setting.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingResponse {
    pub kind: Kind,
    pub channel: Channel,
}

/// `PUT /api/notifications/settings/{kind}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingRequest {
    pub channel: Channel,
}

/// One `email_outbox` row.
#[derive(Debug, Clone, FromRow)]
pub struct MailRow {
    pub id: MailId,
    pub recipient_id: UserId,
    pub address: String,
    pub attempts: i64,
}

/// A message the outbox could not send, for administrators.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailStatusResponse {
    #[schema(value_type = String)]
    pub id: MailId,
    #[schema(value_type = String)]
    pub recipient_id: UserId,
    pub address: String,
    pub attempts: i64,
    pub created_at: i64,
    pub next_attempt_at: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_stored_word() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        }
        assert!("thread_replied".parse::<Kind>().is_err());
    }

    #[test]
    fn unsubscribing_from_email_keeps_the_inbox() {
        assert_eq!(Channel::Both.without_email(), Channel::InApp);
        assert_eq!(Channel::Email.without_email(), Channel::None);
        assert!(!Channel::InApp.email() && Channel::InApp.in_app());
    }
}
