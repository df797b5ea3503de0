//! The events of a conversation beyond the thread's own: @mentions, followers and the
//! paragraph's other commenters (issue 17).
//!
//! From the same audit entries [`raise`](super::raise) reads:
//! - a comment that newly @mentions someone (`thread_opened`, `comment_added` and
//!   `comment_edited` carry `mentions`, only the new ones) raises `mentioned` to each
//!   mentioned user, or to every active user of a mentioned organisation;
//! - `thread_opened` raises `thread_opened` to the document's followers;
//! - `thread_opened` and `comment_added` raise `paragraph_activity` to every active user
//!   of each organisation that commented on the same paragraph in another thread
//!   ([`paragraph`](super::paragraph)), but not to whoever unfollowed the thread.
//!
//! Replies to followed threads reuse `thread_reply` (its audience in `raise` is the
//! thread's followers): a follower wants the same message as a writer, and one kind per
//! event keeps the settings page short. Nobody is told twice of one entry
//! (`raise::raise_all` tells each person of the first event that concerns them): the
//! mentions and followers' events come before the thread's own ([`Conversation::ahead`]),
//! the paragraph's after it ([`Conversation::behind`]), so a follower who is also
//! mentioned gets the mention only, and a writer of the thread its reply, not the
//! paragraph notice.

use serde_json::{Value, json};

use crate::audit::Entry;
use crate::ids::{DocId, OrgId, ThreadId, UserId};
use crate::notifications::model::Kind;
use crate::notifications::paragraph;
use crate::notifications::raise::{Audience, Event, shorten};
use crate::on_tx;
use crate::storage::{StoreError, Tx};

/// Longest excerpt of a comment carried in a notification (as `raise`'s).
const EXCERPT_CHARS: usize = 280;

/// The conversation's events of one audit entry, around the thread's own.
#[derive(Debug, Default)]
pub struct Conversation {
    /// Raised before the thread's own event: mentions, then the document's followers.
    pub ahead: Vec<Event>,
    /// Raised after it: the paragraph's other commenting organisations.
    pub behind: Vec<Event>,
}

/// The mention, follower and paragraph events of audit entry `entry` (with its parsed
/// `detail`).
pub async fn events_for(
    tx: &mut Tx,
    doc: &DocId,
    entry: &Entry,
    detail: &Value,
) -> Result<Conversation, StoreError> {
    let action = entry.action.as_str();
    if !matches!(action, "thread_opened" | "comment_added" | "comment_edited") {
        return Ok(Conversation::default());
    }
    let Some(thread) = detail
        .get("thread")
        .and_then(Value::as_str)
        .and_then(|t| ThreadId::parse(t).ok())
    else {
        return Ok(Conversation::default());
    };
    let excerpt = match detail.get("comment").and_then(Value::as_str) {
        Some(comment) => body_of(tx, "SELECT body FROM comments WHERE id = $1", comment).await?,
        None => {
            let first =
                "SELECT body FROM comments WHERE thread_id = $1 ORDER BY created_at, id LIMIT 1";
            body_of(tx, first, thread.as_str()).await?
        }
    };
    let quote: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT original_quote FROM threads WHERE id = $1")
            .bind(thread.as_str())
            .fetch_optional(&mut *conn)
            .await?
    });
    let base = json!({ "by": entry.actor_name, "byOrg": entry.org_id, "excerpt": excerpt,
        "quote": quote.map(|q| shorten(&q, 160)) });
    let actor = entry
        .actor_id
        .as_deref()
        .and_then(|a| UserId::parse(a).ok());
    let event = |kind, audience, payload| Event {
        kind,
        doc: doc.clone(),
        thread: Some(thread.clone()),
        audience,
        actor: actor.clone(),
        payload,
    };
    let mut events = Vec::new();
    for mention in detail
        .get("mentions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(kind), Some(id)) = (
            mention.get("kind").and_then(Value::as_str),
            mention.get("id").and_then(Value::as_str),
        ) else {
            continue;
        };
        let (audience, name) = match kind {
            "user" => match UserId::parse(id) {
                Ok(user) => (Audience::User(user), None),
                Err(_) => continue,
            },
            "org" => match OrgId::parse(id) {
                Ok(org) => {
                    let name = org_name(tx, &org).await?;
                    (Audience::Org(org), name)
                }
                Err(_) => continue,
            },
            _ => continue,
        };
        let mut payload = base.clone();
        payload["mentioned"] = json!({ "kind": kind, "id": id, "name": name });
        events.push(event(Kind::Mentioned, audience, payload));
    }
    if action == "thread_opened" {
        events.push(event(
            Kind::ThreadOpened,
            Audience::DocumentFollowers,
            base.clone(),
        ));
    }
    let mut behind = Vec::new();
    if action != "comment_edited" {
        let mut payload = base;
        payload["reply"] = json!(action == "comment_added");
        for org in paragraph::commenting_orgs(tx, doc, &thread).await? {
            behind.push(event(
                Kind::ParagraphActivity,
                Audience::Org(org),
                payload.clone(),
            ));
        }
    }
    Ok(Conversation {
        ahead: events,
        behind,
    })
}

async fn body_of(tx: &mut Tx, sql: &'static str, id: &str) -> Result<Option<String>, StoreError> {
    let body: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *conn).await?
    });
    Ok(body.map(|b| shorten(&b, EXCERPT_CHARS)))
}

async fn org_name(tx: &mut Tx, org: &OrgId) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(org.as_str())
            .fetch_optional(&mut *conn)
            .await?
    }))
}
