//! Several nodes on one PostgreSQL database, kept in step with LISTEN/NOTIFY.
//!
//! PostgreSQL is the only distributed engine: every node writes its updates to the
//! shared log, and the writing transaction NOTIFYs the others (a notification is
//! delivered only if the transaction commits). A node with the document open reads the
//! log from the last sequence number it applied, in order, applies and relays. Nothing
//! depends on a notification arriving: after the listener reconnects, and every few
//! seconds regardless, each open room compares its position with the log's head.
//!
//! Presence crosses nodes as notices too; each node also sends a heartbeat, and a node
//! that falls silent has its clients' presence removed on the others.
//!
//! On SQLite the cluster is a no-op: one node, nobody to tell.

pub mod listener;
pub mod notice;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::ids::DocId;
use crate::storage::journal::{AppendNotice, Notification};
use crate::storage::now_ms;
pub use notice::{Envelope, Notice};

/// How often a node says it is alive.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// Silence after which a node counts as dead.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(6);
/// How long oversized payloads stay in `cluster_messages`.
const STORED_PAYLOAD_TTL_MS: i64 = 60_000;
/// Notices that may wait for the publisher.
const PUBLISH_QUEUE: usize = 4096;

/// This node's link to the others; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    node: String,
    pool: PgPool,
    queue: mpsc::Sender<Notice>,
}

impl Cluster {
    /// A node alone (SQLite): publishing does nothing.
    pub fn single() -> Self {
        Self::default()
    }

    /// Joins the cluster on `pool` and starts the publisher (with heartbeats).
    pub fn start(pool: PgPool, shutdown: CancellationToken) -> Self {
        let node = uuid::Uuid::new_v4().simple().to_string();
        let (queue, rx) = mpsc::channel(PUBLISH_QUEUE);
        tokio::spawn(publish_loop(pool.clone(), node.clone(), rx, shutdown));
        Self {
            inner: Some(Arc::new(Inner { node, pool, queue })),
        }
    }

    /// This node's id, when clustered.
    pub fn node(&self) -> Option<&str> {
        self.inner.as_ref().map(|i| i.node.as_str())
    }

    /// The database pool the cluster talks through.
    pub fn pool(&self) -> Option<&PgPool> {
        self.inner.as_ref().map(|i| &i.pool)
    }

    /// What the journal NOTIFYs inside each appending transaction, so the other nodes
    /// hear of exactly what was committed; `None` alone (SQLite).
    pub fn append_notice(&self) -> Option<AppendNotice> {
        let node = self.node()?.to_owned();
        Some(Arc::new(move |doc: &DocId, seq: i64| Notification {
            channel: notice::CHANNEL,
            payload: Envelope {
                n: node.clone(),
                notice: Notice::Updated {
                    d: doc.to_string(),
                    seq,
                },
            }
            .encode(),
        }))
    }

    /// Tells the other nodes. Never waits: a notice that finds the queue full is dropped
    /// and logged (the periodic catch-up covers document updates; presence renews itself).
    pub fn publish(&self, notice: Notice) {
        if let Some(inner) = &self.inner
            && inner.queue.try_send(notice).is_err()
        {
            tracing::warn!("cluster publish queue full; a notice was dropped");
        }
    }
}

async fn publish_loop(
    pool: PgPool,
    node: String,
    mut rx: mpsc::Receiver<Notice>,
    shutdown: CancellationToken,
) {
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    let mut cleanup = tokio::time::interval(Duration::from_secs(30));
    loop {
        let notice = tokio::select! {
            notice = rx.recv() => match notice {
                Some(notice) => notice,
                None => return,
            },
            _ = heartbeat.tick() => Notice::Heartbeat,
            _ = cleanup.tick() => {
                let cutoff = now_ms() - STORED_PAYLOAD_TTL_MS;
                if let Err(error) = sqlx::query("DELETE FROM cluster_messages WHERE created_at < $1").bind(cutoff).execute(&pool).await {
                    tracing::warn!(%error, "cleaning cluster_messages failed");
                }
                continue;
            }
            () = shutdown.cancelled() => return,
        };
        if let Err(error) = send(&pool, &node, notice).await {
            tracing::warn!(%error, "publishing a cluster notice failed");
        }
    }
}

async fn send(pool: &PgPool, node: &str, notice: Notice) -> Result<(), sqlx::Error> {
    let mut payload = Envelope {
        n: node.to_owned(),
        notice,
    }
    .encode();
    if payload.len() > notice::MAX_INLINE_PAYLOAD {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO cluster_messages (payload, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(&payload)
        .bind(now_ms())
        .fetch_one(pool)
        .await?;
        payload = Envelope {
            n: node.to_owned(),
            notice: Notice::Stored { id },
        }
        .encode();
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(notice::CHANNEL)
        .bind(payload)
        .execute(pool)
        .await?;
    Ok(())
}
