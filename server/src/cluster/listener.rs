//! The receiving half: LISTEN, dispatch notices to the open rooms of this node, notice
//! dead nodes, and poll the log heads so that a lost notification costs seconds, not data.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::cluster::NODE_TIMEOUT;
use crate::cluster::notice::{CHANNEL, Envelope, Notice};
use crate::ids::DocId;
use crate::state::AppState;
use crate::sync::close::{self, CloseReason};
use crate::sync::live::Reloaders;
use crate::sync::room::{RemoteNotice, RoomCommand};

/// How often open rooms compare their position with the log's head, whatever arrived.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Wait before reconnecting a failed listener.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Listens until shutdown; live events of other nodes are rebuilt with `reloaders`.
pub async fn run(state: AppState, pool: PgPool, node: String, reloaders: Reloaders) {
    let shutdown = state.shutdown.clone();
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
        poll_heads(&state, &pool).await;
        loop {
            tokio::select! {
                received = listener.recv() => match received {
                    Ok(notification) => {
                        if let Some(envelope) = Envelope::decode(notification.payload()) {
                            handle(&state, &reloaders, &pool, &node, envelope, &mut peers).await;
                        }
                    }
                    Err(_) if shutdown.is_cancelled() => return,
                    Err(error) => {
                        tracing::warn!(%error, "cluster listener lost its connection; reconnecting");
                        break;
                    }
                },
                _ = sweep.tick() => sweep_dead(&state, &mut peers).await,
                _ = poll.tick() => poll_heads(&state, &pool).await,
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
    state: &AppState,
    reloaders: &Reloaders,
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
    dispatch(state, reloaders, &envelope.n, notice).await;
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

async fn dispatch(state: &AppState, reloaders: &Reloaders, from: &str, notice: Notice) {
    let doc_of = |d: &str| DocId::parse(d).ok();
    match notice {
        Notice::Updated { d, seq } => {
            if let Some(room) = doc_of(&d).and_then(|d| state.rooms.get(&d)) {
                let _ = room
                    .send(RoomCommand::Remote(RemoteNotice::CatchUp {
                        head: Some(seq),
                    }))
                    .await;
            }
        }
        Notice::Awareness { ref d, .. } => {
            let message = notice.awareness_message();
            if let (Some(room), Some(message)) =
                (doc_of(d).and_then(|d| state.rooms.get(&d)), message)
            {
                let remote = RemoteNotice::Awareness {
                    node: from.to_owned(),
                    message: message.into(),
                };
                let _ = room.send(RoomCommand::Remote(remote)).await;
            }
        }
        Notice::Event { d, c, id } => {
            if let Some(doc) = doc_of(&d) {
                state
                    .rooms
                    .live()
                    .deliver_remote(reloaders, doc, c, id)
                    .await;
            }
        }
        Notice::Members { d } => {
            let Some(doc) = doc_of(&d) else { return };
            if state.rooms.get(&doc).is_none() {
                return;
            }
            match state.db.members(&doc).await {
                Ok(members) => state.rooms.members_changed(&doc, members).await,
                Err(error) => tracing::warn!(%error, "reloading members failed"),
            }
        }
        Notice::Archived { d } => {
            if let Some(doc) = doc_of(&d) {
                state
                    .rooms
                    .close_document(
                        &doc,
                        CloseReason::new(close::ARCHIVED, "the document is archived"),
                    )
                    .await;
            }
        }
        Notice::Heartbeat | Notice::Stored { .. } => {}
    }
}

/// Nodes silent for longer than [`NODE_TIMEOUT`] are gone: their clients' presence goes.
async fn sweep_dead(state: &AppState, peers: &mut HashMap<String, Instant>) {
    let dead: Vec<String> = peers
        .iter()
        .filter(|(_, seen)| seen.elapsed() > NODE_TIMEOUT)
        .map(|(n, _)| n.clone())
        .collect();
    for node in dead {
        peers.remove(&node);
        tracing::info!(%node, "a node fell silent; removing its clients' presence");
        for room in state.rooms.all_open() {
            let _ = room
                .send(RoomCommand::Remote(RemoteNotice::NodeGone {
                    node: node.clone(),
                }))
                .await;
        }
    }
}

/// Tells every open room the log's head, so it catches up whatever it missed.
async fn poll_heads(state: &AppState, pool: &PgPool) {
    let open = state.rooms.open_ids();
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
        if let Some(room) = DocId::parse(id).ok().and_then(|d| state.rooms.get(&d)) {
            let _ = room
                .send(RoomCommand::Remote(RemoteNotice::CatchUp {
                    head: Some(head),
                }))
                .await;
        }
    }
}
