//! What nodes tell each other, as PostgreSQL NOTIFY payloads.
//!
//! Payloads are small JSON objects naming what changed (a document's new head sequence
//! number, a thread id); the data itself is read from the tables. Awareness is the one
//! exception, carried whole because it is small and never stored; a payload too large
//! for NOTIFY (8000 bytes) goes through the `cluster_messages` table instead.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The one channel every node listens on.
pub const CHANNEL: &str = "forankra";
/// Largest payload sent inline; PostgreSQL's limit is 8000 bytes.
pub const MAX_INLINE_PAYLOAD: usize = 7800;

/// A message from one node to the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Notice {
    /// Updates up to `seq` of the document are stored.
    #[serde(rename = "u")]
    Updated { d: String, seq: i64 },
    /// A presence message for the document's room (base64 of the y-websocket message).
    #[serde(rename = "a")]
    Awareness { d: String, m: String },
    /// A live event of kind `c` (a registered message type, `sync::hooks`) named by
    /// `id` (a thread id for thread events) happened in the document.
    #[serde(rename = "e")]
    Event { d: String, c: u64, id: String },
    /// The document's membership changed.
    #[serde(rename = "m")]
    Members { d: String },
    /// The document was archived: close its room.
    #[serde(rename = "x")]
    Archived { d: String },
    /// These users' inboxes changed (a notification raised, one read): their open event
    /// streams reread the unread count. Sent from inside the raising transaction, which
    /// knows no node, so every node handles it, the sender's included.
    #[serde(rename = "i")]
    Inbox { u: Vec<String> },
    /// The sending node is alive.
    #[serde(rename = "h")]
    Heartbeat,
    /// The real payload is row `id` of `cluster_messages` (it was too large for NOTIFY).
    #[serde(rename = "big")]
    Stored { id: i64 },
}

impl Notice {
    /// A presence notice for `message`.
    pub fn awareness(doc: &str, message: &[u8]) -> Self {
        Notice::Awareness {
            d: doc.to_owned(),
            m: STANDARD.encode(message),
        }
    }

    /// The presence message carried, if this is one and it decodes.
    pub fn awareness_message(&self) -> Option<Vec<u8>> {
        match self {
            Notice::Awareness { m, .. } => STANDARD.decode(m).ok(),
            _ => None,
        }
    }
}

/// A notice with the node that sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The sending node's id.
    pub n: String,
    #[serde(flatten)]
    pub notice: Notice,
}

impl Envelope {
    /// The NOTIFY payload.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a payload; `None` for anything not ours.
    pub fn decode(payload: &str) -> Option<Self> {
        serde_json::from_str(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_and_stay_small() {
        let envelope = Envelope {
            n: "node-a".into(),
            notice: Notice::Updated {
                d: "doc".into(),
                seq: 42,
            },
        };
        let payload = envelope.encode();
        assert_eq!(payload, r#"{"n":"node-a","k":"u","d":"doc","seq":42}"#);
        assert_eq!(Envelope::decode(&payload), Some(envelope));
        let presence = Notice::awareness("doc", &[1, 2, 3]);
        assert_eq!(presence.awareness_message(), Some(vec![1, 2, 3]));
        assert_eq!(Envelope::decode("not json"), None);
    }
}
