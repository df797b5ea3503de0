//! The receiving half: LISTEN, dispatch notices to the open rooms of this node, notice
//! dead nodes, and poll the log heads so that a lost notification costs seconds, not data.
//!
//! The rooms are reached through [`RemoteSink`], which the sync core implements
//! (`sync::remote`) and `App::serve` hands in: the cluster sits below the sync core,
//! so it names what it needs of the rooms instead of importing them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::cluster::NODE_TIMEOUT;
use crate::cluster::notice::{CHANNEL, Envelope, Notice};
use crate::ids::DocId;

/// How often open rooms compare their position with the log's head, whatever arrived.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Wait before reconnecting a failed listener.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// What the listener does to this node's open rooms; each call concerns only rooms open
/// here and does nothing for a document nobody has open.
pub trait RemoteSink: Send + Sync {
    /// The documents open on this node.
    fn open_docs(&self) -> Vec<DocId>;
    /// The log of `doc` reaches `head`: its room reads what it is missing.
    fn catch_up(&self, doc: DocId, head: i64) -> BoxFuture<'_, ()>;
    /// A presence message from a client of `node`.
    fn awareness(&self, doc: DocId, node: String, message: Vec<u8>) -> BoxFuture<'_, ()>;
    /// A live event of message kind `kind` about `key`, to rebuild from the database.
    fn event(&self, doc: DocId, kind: u64, key: String) -> BoxFuture<'_, ()>;
    /// The membership of `doc` changed: reread it and re-derive every connection's role.
    fn members_changed(&self, doc: DocId) -> BoxFuture<'_, ()>;
    /// `doc` was archived: its connections close.
    fn archived(&self, doc: DocId) -> BoxFuture<'_, ()>;
    /// `node` fell silent: its clients' presence goes from every open room.
    fn node_gone(&self, node: String) -> BoxFuture<'_, ()>;
}

/// What the listener does for people rather than rooms: the notification streams open
/// on this node (`notifications::live::Bells` implements it).
pub trait InboxSink: Send + Sync {
    /// The inboxes of `users` changed: their open streams reread them.
    fn inbox_changed(&self, users: &[String]);
}

/// Listens until `shutdown`, telling this node's rooms through `rooms` and its open
/// notification streams through `inboxes`.
pub async fn run(
    rooms: Arc<dyn RemoteSink>,
    inboxes: Arc<dyn InboxSink>,
    pool: PgPool,
    node: String,
    shutdown: CancellationToken,
) {
    let state = rooms.as_ref();
    let mut peers: HashMap<String, Instant> = HashMap::new();
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    let mut poll = tokio::time::interval(POLL_INTERVAL);
    loop {
        let mut listener = match connect(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cluster listener cannot connect; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RECONNECT_DELAY) => continue,
                    () = shutdown.cancelled() => return,
                }
            }
        };
        // Whatever was notified while nobody listened is found by reading the log.
        poll_heads(state, &pool).await;
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(notification) => {
                        if let Some(envelope) = Envelope::decode(notification.payload()) {
                            if let Notice::Inbox { u } = &envelope.notice {
                                // Raised in a transaction, which knows no node: every
                                // node hears it, this one included.
                                inboxes.inbox_changed(u);
                                continue;
                            }
                            handle(state, &pool, &node, envelope, &mut peers).await;
                        }
                    }
                    Err(_) if shutdown.is_cancelled() => return,
                    Err(error) => {
                        tracing::warn!(%error, "cluster listener lost its connection; reconnecting");
                        break;
                    }
                },
                _ = sweep.tick() => sweep_dead(state, &mut peers).await,
                _ = poll.tick() => poll_heads(state, &pool).await,
                () = shutdown.cancelled() => return,
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn handle(
    state: &dyn RemoteSink,
    pool: &PgPool,
    node: &str,
    envelope: Envelope,
    peers: &mut HashMap<String, Instant>,
) {
    if envelope.n == node {
        return;
    }
    peers.insert(envelope.n.clone(), Instant::now());
    let notice = match envelope.notice {
        Notice::Stored { id } => match load_stored(pool, id).await {
            Some(inner) if inner.n == envelope.n => inner.notice,
            _ => return,
        },
        notice => notice,
    };
    dispatch(state, &envelope.n, notice).await;
}

async fn load_stored(pool: &PgPool, id: i64) -> Option<Envelope> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT payload FROM cluster_messages WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(|error| tracing::warn!(%error, "reading a stored cluster notice failed"))
            .ok()?;
    row.and_then(|(payload,)| Envelope::decode(&payload))
}

async fn dispatch(rooms: &dyn RemoteSink, from: &str, notice: Notice) {
    let doc_of = |d: &str| DocId::parse(d).ok();
    match notice {
        Notice::Updated { d, seq } => {
            if let Some(doc) = doc_of(&d) {
                rooms.catch_up(doc, seq).await;
            }
        }
        Notice::Awareness { ref d, .. } => {
            if let (Some(doc), Some(message)) = (doc_of(d), notice.awareness_message()) {
                rooms.awareness(doc, from.to_owned(), message).await;
            }
        }
        Notice::Event { d, c, id } => {
            if let Some(doc) = doc_of(&d) {
                rooms.event(doc, c, id).await;
            }
        }
        Notice::Members { d } => {
            if let Some(doc) = doc_of(&d) {
                rooms.members_changed(doc).await;
            }
        }
        Notice::Archived { d } => {
            if let Some(doc) = doc_of(&d) {
                rooms.archived(doc).await;
            }
        }
        Notice::Heartbeat | Notice::Stored { .. } | Notice::Inbox { .. } => {}
    }
}

/// Nodes silent for longer than [`NODE_TIMEOUT`] are gone: their clients' presence goes.
async fn sweep_dead(rooms: &dyn RemoteSink, peers: &mut HashMap<String, Instant>) {
    let dead: Vec<String> = peers
        .iter()
        .filter(|(_, seen)| seen.elapsed() > NODE_TIMEOUT)
        .map(|(n, _)| n.clone())
        .collect();
    for node in dead {
        peers.remove(&node);
        tracing::info!(%node, "a node fell silent; removing its clients' presence");
        rooms.node_gone(node).await;
    }
}

/// Tells every open room the log's head, so it catches up whatever it missed.
async fn poll_heads(rooms: &dyn RemoteSink, pool: &PgPool) {
    let open = rooms.open_docs();
    if open.is_empty() {
        return;
    }
    let ids: Vec<String> = open.iter().map(|d| d.to_string()).collect();
    let heads: Vec<(String, i64)> =
        match sqlx::query_as("SELECT id, head_seq FROM documents WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(pool)
            .await
        {
            Ok(heads) => heads,
            Err(error) => {
                tracing::warn!(%error, "polling document heads failed");
                return;
            }
        };
    for (id, head) in heads {
        if let Ok(doc) = DocId::parse(id) {
            rooms.catch_up(doc, head).await;
        }
    }
}
