//! Webhook events, rows and the JSON the API speaks about them.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::FromRow;

use crate::audit::Entry;
use crate::ids::{DeliveryId, DocId, WebhookId};

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Event {
    #[serde(rename = "thread.opened")]
    ThreadOpened,
    #[serde(rename = "comment.added")]
    CommentAdded,
    #[serde(rename = "thread.resolved")]
    ThreadResolved,
    /// An invited organisation gave its response ("yttrande lämnat").
    #[serde(rename = "organisation.done")]
    OrganisationDone,
}

impl Event {
    /// Every event, in the order the API lists them.
    pub const ALL: [Event; 4] = [
        Event::ThreadOpened,
        Event::CommentAdded,
        Event::ThreadResolved,
        Event::OrganisationDone,
    ];

    /// The name on the wire (`X-Forankra-Event`, the body's `event`).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::ThreadOpened => "thread.opened",
            Event::CommentAdded => "comment.added",
            Event::ThreadResolved => "thread.resolved",
            Event::OrganisationDone => "organisation.done",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// A stored event name decodes or the row is refused: an unknown value is an error.
impl TryFrom<String> for Event {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        Self::parse(&name).ok_or_else(|| format!("unknown webhook event `{name}`"))
    }
}

impl Event {
    /// The event an audit action (its stored name) announces, if any.
    pub fn for_action(action: &str) -> Option<Self> {
        match action {
            "thread_opened" => Some(Event::ThreadOpened),
            "comment_added" => Some(Event::CommentAdded),
            "thread_resolved" => Some(Event::ThreadResolved),
            "response_given" => Some(Event::OrganisationDone),
            _ => None,
        }
    }
}

/// Whether a webhook's stored event list (comma-separated) includes `event`.
pub fn wants(events: &str, event: Event) -> bool {
    events.split(',').any(|e| e == event.as_str())
}

/// The body of one delivery: `{"id", "event", "documentId", "at", "data"}`, where `data`
/// is the audit entry's detail with the actor who caused it (`null` for the server).
pub fn payload(id: &DeliveryId, event: Event, doc: &DocId, entry: &Entry) -> String {
    let mut data = match serde_json::from_str::<Value>(&entry.detail) {
        Ok(Value::Object(map)) => map,
        Ok(other) => serde_json::Map::from_iter([("detail".to_owned(), other)]),
        Err(_) => serde_json::Map::new(),
    };
    let actor = match (&entry.actor_id, &entry.actor_name) {
        (Some(id), Some(name)) => json!({ "id": id, "name": name, "org": entry.org_id }),
        _ => Value::Null,
    };
    data.insert("actor".to_owned(), actor);
    json!({
        "id": id,
        "event": event.as_str(),
        "documentId": doc.as_str(),
        "at": entry.at,
        "data": data,
    })
    .to_string()
}

/// A `webhooks` row.
#[derive(Debug, Clone, FromRow)]
pub struct WebhookRow {
    pub id: WebhookId,
    pub doc_id: DocId,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A `webhook_deliveries` row.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub doc_id: DocId,
    /// Decoded here, at the row boundary: a row with an unknown event does not load.
    #[sqlx(try_from = "String")]
    pub event: Event,
    pub payload: String,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

/// A `webhook_attempts` row.
#[derive(Debug, Clone, FromRow)]
pub struct AttemptRow {
    pub delivery_id: DeliveryId,
    pub attempt: i64,
    pub at: i64,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// `POST /api/documents/{id}/webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateWebhookRequest {
    /// Where to POST: `https://…` (or `http://` on a server run with `--webhook-allow-http`).
    pub url: String,
    /// At least one of `thread.opened`, `comment.added`, `thread.resolved`, `organisation.done`.
    pub events: Vec<Event>,
}

/// A registered webhook (never with its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookResponse {
    pub id: String,
    pub url: String,
    pub events: Vec<Event>,
    /// The user who registered it.
    pub created_by: String,
    pub created_at: i64,
}

impl From<WebhookRow> for WebhookResponse {
    fn from(row: WebhookRow) -> Self {
        Self {
            id: row.id.into(),
            url: row.url,
            events: row.events.split(',').filter_map(Event::parse).collect(),
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

/// The answer to registering: the webhook and its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhookResponse {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// The HMAC-SHA256 key (its UTF-8 bytes, as shown) for `X-Forankra-Signature`.
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    Failed,
}

impl DeliveryStatus {
    /// The name stored in `webhook_deliveries.status` (and sent in the API).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// A stored status decodes or the row is refused: an unknown value is an error.
impl TryFrom<String> for DeliveryStatus {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown delivery status `{name}`"))
    }
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    /// 1, 2, 3…
    pub attempt: i64,
    pub at: i64,
    /// The receiver's HTTP status; `null` when no answer came.
    pub http_status: Option<i64>,
    /// Why it failed; `null` when it succeeded.
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<AttemptRow> for AttemptResponse {
    fn from(row: AttemptRow) -> Self {
        Self {
            attempt: row.attempt,
            at: row.at,
            http_status: row.http_status,
            error: row.error,
            duration_ms: row.duration_ms,
        }
    }
}

/// One event sent (or being sent) to a webhook, with its attempts, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResponse {
    pub id: String,
    pub event: Event,
    pub status: DeliveryStatus,
    pub created_at: i64,
    /// When the next attempt is due; `null` unless pending.
    pub next_attempt_at: Option<i64>,
    pub attempts: Vec<AttemptResponse>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_decode_and_unknown_ones_are_errors() {
        for status in [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ] {
            assert_eq!(
                DeliveryStatus::try_from(status.as_str().to_owned()),
                Ok(status)
            );
            let json = serde_json::to_string(&status).expect("serialises");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!(DeliveryStatus::try_from("lost".to_owned()).is_err());
        for event in Event::ALL {
            assert_eq!(Event::try_from(event.as_str().to_owned()), Ok(event));
        }
        assert!(Event::try_from("thread.deleted".to_owned()).is_err());
    }
}
