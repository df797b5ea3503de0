//! Turning an audit entry into notifications, inside the transaction that records it.
//!
//! Every use case appends its audit entry through `webhooks::record_in`, which calls
//! [`record_in`] here in the same transaction: a notification exists exactly when the
//! action it reports was committed, whoever caused it (the API, the demo), and nothing is
//! raised for an action that rolled back. Reading the entry rather than being called by
//! each use case keeps this module below comments and remiss (the layering is acyclic).
//!
//! Who is told:
//! - `member_invited` of an organisation: every active user of it (of a user: that user);
//! - `comment_added`: the thread's followers: everyone who wrote in it or opened it, and
//!   the document's followers, but not who unfollowed it (`comments::following`);
//! - a new @mention, and a new thread in a followed document: see [`conversation`], whose
//!   events come first; a new thread or reply on a paragraph an organisation commented
//!   on: every user of it, after the thread's own; nobody is told twice of one entry
//!   ([`raise_all`]);
//! - `thread_resolved`, `proposal_accepted`/`_rejected`: the thread's writers and every
//!   user of the organisation that opened it; a decision on a proposal, which also
//!   resolves the thread, is told once, as `proposal_decided`;
//! - `response_given`/`_declined`: the document's owners;
//! - `remiss_changed` that moves the phase or the svarsdatum: every member who is not an
//!   owner (the invitees; a new diarienummer alone tells nobody);
//! - `extension_requested`: the document's owners; `extension_granted`/`_refused`: every
//!   user of the organisation it concerns.
//!
//! Never the actor, never a disabled user, and never someone who no longer has a role on
//! the document (a reply must not reach an organisation that was removed).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::audit::Entry;
use crate::ids::{DocId, MailId, NotificationId, OrgId, ThreadId, UserId};
use crate::notifications::conversation;
use crate::notifications::digest;
use crate::notifications::model::{Channel, Kind};
use crate::notifications::preferences::Digest;
use crate::on_tx;
use crate::storage::{StoreError, Tx};

/// Longest excerpt of a comment carried in a notification.
const EXCERPT_CHARS: usize = 280;

/// Longest quote of the commented text carried in a notification.
const QUOTE_CHARS: usize = 160;

/// Who an event concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every active user of an organisation.
    Org(OrgId),
    /// One user.
    User(UserId),
    /// Everyone who wrote in a thread, and with `and_org` every user of the organisation
    /// that opened it.
    Thread { thread: ThreadId, and_org: bool },
    /// The document's owners: users of the owning organisation and owners by name.
    Owners,
    /// Every member who is not an owner: the invited organisations' users and users
    /// invited by name.
    Invitees,
    /// Everyone who follows the whole document.
    DocumentFollowers,
}

/// One event to tell people about.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub doc: DocId,
    pub thread: Option<ThreadId>,
    pub audience: Audience,
    /// Who caused it (never told), if a person did.
    pub actor: Option<UserId>,
    pub payload: Value,
}

/// How e-mail is set up, as the last started node wrote it to the database
/// (`notifications.mail`, `notifications.batch_window_ms`): every node and every use case
/// sees the same, without this module reaching the server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailPolicy {
    /// An SMTP server is configured; without one nothing is queued.
    pub enabled: bool,
    /// How long a batched e-mail waits for more activities on its thread, in ms.
    pub batch_window_ms: i64,
    /// The hour (Stockholm) of the daily digest (`digest`).
    pub digest_hour: i8,
}

/// The setting keys of [`MailPolicy`].
pub const MAIL_ENABLED_KEY: &str = "notifications.mail";
pub const BATCH_WINDOW_KEY: &str = "notifications.batch_window_ms";

/// Raises the notifications audit entry `entry` of `doc` causes, inside `tx`. Returns how
/// many e-mails were queued or joined, so the caller can wake the mail worker.
pub async fn record_in(tx: &mut Tx, doc: &DocId, entry: &Entry) -> Result<usize, StoreError> {
    let detail: Value = serde_json::from_str(&entry.detail)
        .map_err(|e| StoreError::Corrupt(format!("audit detail is not JSON: {e}")))?;
    let conversation = conversation::events_for(tx, doc, entry, &detail).await?;
    let mut events = conversation.ahead;
    events.extend(event_for(tx, doc, entry).await?);
    events.extend(conversation.behind);
    raise_all(tx, &events).await
}

/// The event an audit entry announces, if any, with its payload filled from the rows
/// the transaction sees.
async fn event_for(tx: &mut Tx, doc: &DocId, entry: &Entry) -> Result<Option<Event>, StoreError> {
    let detail: Value = serde_json::from_str(&entry.detail)
        .map_err(|e| StoreError::Corrupt(format!("audit detail is not JSON: {e}")))?;
    let text = |key: &str| detail.get(key).and_then(Value::as_str).map(str::to_owned);
    let thread = text("thread").and_then(|t| ThreadId::parse(&t).ok());
    let by = json!({ "by": entry.actor_name, "byOrg": entry.org_id });
    let (kind, audience, extra) = match (entry.action.as_str(), thread.clone()) {
        ("member_invited", _) => {
            let Some(principal) = text("principal") else {
                return Ok(None);
            };
            let audience = match text("kind").as_deref() {
                Some("org") => Audience::Org(parse_id(OrgId::parse(&principal))?),
                Some("user") => Audience::User(parse_id(UserId::parse(&principal))?),
                _ => return Ok(None),
            };
            let deadline = round_deadline(tx, doc).await?;
            let extra = json!({ "role": text("to"), "deadline": deadline });
            (Kind::RemissInvited, audience, extra)
        }
        ("comment_added", Some(thread)) => {
            let excerpt = match text("comment") {
                Some(comment) => comment_excerpt(tx, &comment).await?,
                None => None,
            };
            let audience = Audience::Thread {
                thread,
                and_org: false,
            };
            (Kind::ThreadReply, audience, json!({ "excerpt": excerpt }))
        }
        ("thread_resolved", Some(thread)) => {
            if follows_a_proposal_decision(tx, doc, entry.seq, &thread).await? {
                return Ok(None);
            }
            let extra =
                json!({ "outcome": detail.get("outcome"), "motivation": detail.get("motivation") });
            (
                Kind::ThreadResolved,
                Audience::Thread {
                    thread,
                    and_org: true,
                },
                extra,
            )
        }
        (action @ ("proposal_accepted" | "proposal_rejected"), Some(thread)) => {
            let extra = json!({ "accepted": action == "proposal_accepted",
                "outcome": detail.get("outcome"), "motivation": detail.get("motivation") });
            (
                Kind::ProposalDecided,
                Audience::Thread {
                    thread,
                    and_org: true,
                },
                extra,
            )
        }
        (action @ ("response_given" | "response_declined"), _) => {
            let answer = if action == "response_given" {
                "done"
            } else {
                "declined"
            };
            (
                Kind::StatementReceived,
                Audience::Owners,
                json!({ "answer": answer, "org": text("org") }),
            )
        }
        ("remiss_changed", _) => {
            let (from, to) = (&detail["from"], &detail["to"]);
            if from["phase"] == to["phase"] && from["deadline"] == to["deadline"] {
                return Ok(None);
            }
            let extra = json!({ "phase": to["phase"], "deadline": to["deadline"],
                "fromPhase": from["phase"], "fromDeadline": from["deadline"] });
            (Kind::RoundChanged, Audience::Invitees, extra)
        }
        ("extension_requested", _) => (
            Kind::ExtensionRequested,
            Audience::Owners,
            json!({ "org": text("org"), "date": text("date"), "reason": text("reason"),
                "deadline": text("deadline") }),
        ),
        (action @ ("extension_granted" | "extension_refused"), _) => {
            let Some(org) = text("org") else {
                return Ok(None);
            };
            let extra = json!({ "granted": action == "extension_granted", "org": org,
                "date": text("date"), "reason": text("reason"), "deadline": text("deadline") });
            (
                Kind::ExtensionDecided,
                Audience::Org(parse_id(OrgId::parse(&org))?),
                extra,
            )
        }
        _ => return Ok(None),
    };
    let mut payload = by;
    merge(&mut payload, extra);
    if let Some(thread) = &thread
        && matches!(audience, Audience::Thread { .. })
    {
        merge(
            &mut payload,
            json!({ "quote": thread_quote(tx, thread).await? }),
        );
    }
    Ok(Some(Event {
        kind,
        doc: doc.clone(),
        thread: if matches!(audience, Audience::Thread { .. }) {
            thread
        } else {
            None
        },
        audience,
        actor: entry
            .actor_id
            .as_deref()
            .and_then(|a| UserId::parse(a).ok()),
        payload,
    }))
}

/// Whether the entry before `seq` in `doc`'s trail decided `thread`'s proposal: accepting
/// or rejecting one resolves the thread in the same transaction, with two entries
/// (`proposal_accepted` then `thread_resolved`), and the people concerned are told once,
/// by the proposal's notice, which carries the outcome and motivation too.
async fn follows_a_proposal_decision(
    tx: &mut Tx,
    doc: &DocId,
    seq: i64,
    thread: &ThreadId,
) -> Result<bool, StoreError> {
    let before: Option<(String, String)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT action, detail FROM audit_log WHERE doc_id = $1 AND seq = $2")
            .bind(doc.as_str())
            .bind(seq - 1)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(before.is_some_and(|(action, detail)| {
        matches!(action.as_str(), "proposal_accepted" | "proposal_rejected")
            && serde_json::from_str::<Value>(&detail)
                .is_ok_and(|d| d.get("thread").and_then(Value::as_str) == Some(thread.as_str()))
    }))
}

fn parse_id<T, E: std::fmt::Display>(id: Result<T, E>) -> Result<T, StoreError> {
    id.map_err(|e| StoreError::Corrupt(format!("audit detail names a bad id: {e}")))
}

/// Adds `extra`'s fields to `into` (both objects).
fn merge(into: &mut Value, extra: Value) {
    if let (Value::Object(into), Value::Object(extra)) = (into, extra) {
        into.extend(extra);
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn shorten(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// Raises one event: one inbox row per recipient who wants it, and an e-mail queued or
/// joined for each who wants that. Returns how many e-mails were queued or joined.
pub async fn raise_in(tx: &mut Tx, event: &Event) -> Result<usize, StoreError> {
    raise_all(tx, std::slice::from_ref(event)).await
}

/// Raises the events of one action in order, telling each person of the first event
/// that concerns them and that they want (by its kind's setting), and of no later one:
/// a follower who is also @mentioned gets the mention only.
/// The mail policy is read once and the changed inboxes are announced once, for the
/// whole action.
pub async fn raise_all(tx: &mut Tx, events: &[Event]) -> Result<usize, StoreError> {
    let policy = mail_policy(tx).await?;
    let mut told = HashSet::new();
    let mut inboxes = Vec::new();
    let mut mailed = 0;
    for event in events {
        mailed += raise_to(tx, event, policy, &mut told, &mut inboxes).await?;
    }
    crate::notifications::live::announce_in(tx, inboxes).await?;
    Ok(mailed)
}

/// Raises `event` to those it concerns who are not in `told`, adding them, and the
/// users whose inbox it changed to `inboxes`.
async fn raise_to(
    tx: &mut Tx,
    event: &Event,
    policy: MailPolicy,
    told: &mut HashSet<UserId>,
    inboxes: &mut Vec<String>,
) -> Result<usize, StoreError> {
    let recipients = recipients(tx, event).await?;
    let now = crate::storage::now_ms();
    let mut mailed = 0;
    for (user, address) in recipients {
        if told.contains(&user) {
            continue;
        }
        let channel = tx.notification_channel(&user, event.kind).await?;
        if channel == Channel::None {
            continue;
        }
        let mail = match address.filter(|a| policy.enabled && channel.email() && !a.is_empty()) {
            Some(address) => {
                let daily = tx.user_preferences(&user).await?.email_digest == Digest::Daily;
                let held =
                    daily.then(|| digest::batch_key(digest::slot_date(now, policy.digest_hour)));
                Some(
                    tx.queue_mail(&user, &address, event, policy, held.as_deref(), now)
                        .await?,
                )
            }
            None => None,
        };
        if mail.is_none() && !channel.in_app() {
            continue;
        }
        mailed += usize::from(mail.is_some());
        tx.insert_notification(&user, event, channel.in_app(), mail.as_ref(), now)
            .await?;
        if channel.in_app() {
            inboxes.push(user.to_string());
        }
        told.insert(user);
    }
    Ok(mailed)
}

/// The active users `event` concerns who still have a role on its document, but not its
/// actor, and for a paragraph notice not who unfollowed its thread (a choice not to hear
/// of that thread), with their e-mail addresses.
async fn recipients(
    tx: &mut Tx,
    event: &Event,
) -> Result<Vec<(UserId, Option<String>)>, StoreError> {
    // Each audience is a condition on `u`; $1 the document, $2 the actor, $3 the audience's id.
    let (condition, id) = match &event.audience {
        Audience::Org(org) => ("u.org_id = $3", org.to_string()),
        Audience::User(user) => ("u.id = $3", user.to_string()),
        Audience::Thread {
            thread,
            and_org: false,
        } => (THREAD_WRITERS, thread.to_string()),
        Audience::Thread {
            thread,
            and_org: true,
        } => (THREAD_WRITERS_AND_ORG, thread.to_string()),
        Audience::Owners => (OWNERS, String::new()),
        Audience::Invitees => (INVITEES, String::new()),
        Audience::DocumentFollowers => (DOCUMENT_FOLLOWERS, String::new()),
    };
    // $4: a thread whose unfollowers are left out ('' for none).
    let sql = format!(
        "SELECT u.id, u.email FROM users u WHERE u.disabled_at IS NULL AND u.id <> $2 AND ({condition}) \
         AND NOT EXISTS (SELECT 1 FROM follows f WHERE $4 <> '' AND f.user_id = u.id AND f.doc_id = $1 \
         AND f.thread_id = $4 AND f.following = 0) \
         AND (u.org_id = (SELECT owner_org FROM documents WHERE id = $1) OR EXISTS (SELECT 1 FROM document_members m \
         WHERE m.doc_id = $1 AND ((m.principal_kind = 'org' AND m.principal_id = u.org_id) \
         OR (m.principal_kind = 'user' AND m.principal_id = u.id)))) ORDER BY u.id"
    );
    let actor = event
        .actor
        .as_ref()
        .map(UserId::to_string)
        .unwrap_or_default();
    let muted = match (&event.thread, event.kind) {
        (Some(thread), Kind::ParagraphActivity) => thread.to_string(),
        _ => String::new(),
    };
    Ok(on_tx!(tx, conn => {
        sqlx::query_as::<_, (UserId, Option<String>)>(sqlx::AssertSqlSafe(sql))
            .bind(event.doc.as_str())
            .bind(&actor)
            .bind(&id)
            .bind(&muted)
            .fetch_all(&mut *conn)
            .await?
    }))
}

/// The thread's followers: a choice to follow it, or no choice and a writer of it or a
/// follower of the document (the rule of `comments::following`).
const THREAD_WRITERS: &str = "EXISTS (SELECT 1 FROM follows f WHERE f.user_id = u.id AND f.doc_id = $1 \
     AND f.thread_id = $3 AND f.following = 1) OR (NOT EXISTS (SELECT 1 FROM follows f WHERE f.user_id = u.id \
     AND f.doc_id = $1 AND f.thread_id = $3) AND (u.id IN (SELECT author_id FROM comments WHERE thread_id = $3) \
     OR u.id = (SELECT author_id FROM threads WHERE id = $3) OR EXISTS (SELECT 1 FROM follows f \
     WHERE f.user_id = u.id AND f.doc_id = $1 AND f.thread_id = '' AND f.following = 1)))";

const DOCUMENT_FOLLOWERS: &str = "$3 = '' AND EXISTS (SELECT 1 FROM follows f WHERE f.user_id = u.id \
     AND f.doc_id = $1 AND f.thread_id = '' AND f.following = 1)";
const THREAD_WRITERS_AND_ORG: &str = "u.id IN (SELECT author_id FROM comments WHERE thread_id = $3) \
     OR u.id = (SELECT author_id FROM threads WHERE id = $3) \
     OR u.org_id = (SELECT org_id FROM threads WHERE id = $3)";
const OWNERS: &str = "$3 = '' AND (u.org_id = (SELECT owner_org FROM documents WHERE id = $1) \
     OR EXISTS (SELECT 1 FROM document_members m WHERE m.doc_id = $1 AND m.role = 'owner' \
     AND ((m.principal_kind = 'org' AND m.principal_id = u.org_id) OR (m.principal_kind = 'user' AND m.principal_id = u.id))))";

const INVITEES: &str = "$3 = '' AND u.org_id <> (SELECT owner_org FROM documents WHERE id = $1) \
     AND NOT EXISTS (SELECT 1 FROM document_members m WHERE m.doc_id = $1 AND m.role = 'owner' \
     AND ((m.principal_kind = 'org' AND m.principal_id = u.org_id) OR (m.principal_kind = 'user' AND m.principal_id = u.id)))";

/// The e-mail settings every node wrote at start (see [`MailPolicy`]).
async fn mail_policy(tx: &mut Tx) -> Result<MailPolicy, StoreError> {
    let rows: Vec<(String, String)> = on_tx!(tx, conn => {
        sqlx::query_as("SELECT key, value FROM settings WHERE key IN ($1, $2, $3)")
            .bind(MAIL_ENABLED_KEY)
            .bind(BATCH_WINDOW_KEY)
            .bind(digest::HOUR_KEY)
            .fetch_all(&mut *conn)
            .await?
    });
    let value = |key: &str| rows.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    Ok(MailPolicy {
        enabled: value(MAIL_ENABLED_KEY) == Some("on"),
        batch_window_ms: value(BATCH_WINDOW_KEY)
            .and_then(|v| v.parse().ok())
            .unwrap_or(crate::notifications::DEFAULT_BATCH_WINDOW_MS),
        digest_hour: value(digest::HOUR_KEY)
            .and_then(|v| v.parse().ok())
            .unwrap_or(digest::DEFAULT_HOUR),
    })
}

async fn round_deadline(tx: &mut Tx, doc: &DocId) -> Result<Option<String>, StoreError> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar::<_, Option<String>>("SELECT deadline FROM remiss_rounds WHERE doc_id = $1")
            .bind(doc.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .flatten()
    }))
}

async fn comment_excerpt(tx: &mut Tx, comment: &str) -> Result<Option<String>, StoreError> {
    let body: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT body FROM comments WHERE id = $1")
            .bind(comment)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(body.map(|b| shorten(&b, EXCERPT_CHARS)))
}

async fn thread_quote(tx: &mut Tx, thread: &ThreadId) -> Result<Option<String>, StoreError> {
    let quote: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT original_quote FROM threads WHERE id = $1")
            .bind(thread.as_str())
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(quote.map(|q| shorten(&q, QUOTE_CHARS)))
}

impl Tx {
    /// How `user` wants notifications of `kind` ([`Channel::DEFAULT`] if never chosen).
    pub async fn notification_channel(
        &mut self,
        user: &UserId,
        kind: Kind,
    ) -> Result<Channel, StoreError> {
        let channel: Option<Channel> = on_tx!(self, conn => {
            sqlx::query_scalar("SELECT channel FROM notification_settings WHERE user_id = $1 AND kind = $2")
                .bind(user.as_str())
                .bind(kind)
                .fetch_optional(&mut *conn)
                .await?
        });
        Ok(channel.unwrap_or(Channel::DEFAULT))
    }

    /// Writes one inbox row (`in_app` false: kept only for its e-mail).
    async fn insert_notification(
        &mut self,
        user: &UserId,
        event: &Event,
        in_app: bool,
        mail: Option<&MailId>,
        now: i64,
    ) -> Result<(), StoreError> {
        let id = NotificationId::generate();
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO notifications (id, recipient_id, kind, doc_id, thread_id, payload, created_at, email_id, in_app) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(user.as_str())
            .bind(event.kind)
            .bind(event.doc.as_str())
            .bind(event.thread.as_ref().map(ThreadId::as_str))
            .bind(event.payload.to_string())
            .bind(now)
            .bind(mail.map(MailId::as_str))
            .bind(i64::from(in_app))
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// The e-mail that will carry a notification for `user`: a pending message on the
    /// same thread still inside its batching window if there is one, else a new message
    /// (due at the end of the window for batched kinds, at once otherwise). A daily
    /// digest user's notifications all join the held message of their digest (`held`,
    /// its batch key), released at the digest hour (`digest`).
    ///
    /// Joining is an `UPDATE … RETURNING` on a row nobody has leased yet: on PostgreSQL
    /// it holds the row's lock until this transaction ends, and the worker's claim skips
    /// locked rows (`SKIP LOCKED`), so a message is never sent while a notification is
    /// joining it; a row leased meanwhile no longer matches and a new message is made.
    async fn queue_mail(
        &mut self,
        user: &UserId,
        address: &str,
        event: &Event,
        policy: MailPolicy,
        held: Option<&str>,
        now: i64,
    ) -> Result<MailId, StoreError> {
        let batch_key = match (held, &event.thread, event.kind.batched()) {
            (Some(digest), _, _) => Some(digest.to_owned()),
            (None, Some(thread), true) => Some(format!("thread:{thread}")),
            _ => None,
        };
        if let Some(key) = &batch_key {
            let joined: Option<MailId> = on_tx!(self, conn => {
                sqlx::query_scalar(
                    "UPDATE email_outbox SET attempts = attempts WHERE id = (SELECT id FROM email_outbox \
                     WHERE recipient_id = $1 AND batch_key = $2 AND lease_owner IS NULL AND sent_at IS NULL \
                     AND failed_at IS NULL AND attempts = 0 AND next_attempt_at > $3 ORDER BY id LIMIT 1) \
                     AND lease_owner IS NULL AND next_attempt_at > $3 RETURNING id",
                )
                .bind(user.as_str())
                .bind(key)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?
            });
            if let Some(id) = joined {
                return Ok(id);
            }
        }
        let due = if held.is_some() {
            digest::HELD
        } else if batch_key.is_some() {
            now + policy.batch_window_ms
        } else {
            now
        };
        let id = MailId::generate();
        on_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO email_outbox (id, recipient_id, address, batch_key, created_at, attempts, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6)",
            )
            .bind(&id)
            .bind(user.as_str())
            .bind(address)
            .bind(&batch_key)
            .bind(now)
            .bind(due)
            .execute(&mut *conn)
            .await?;
        });
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_marks_a_cut_and_counts_characters_not_bytes() {
        assert_eq!(shorten("åäö", 3), "åäö");
        assert_eq!(shorten("åäöå", 3), "åäö…");
    }
}
