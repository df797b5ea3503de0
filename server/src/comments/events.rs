//! Live thread events on the document's own WebSocket.
//!
//! A client that wants them sends one message of type [`MSG_EVENTS`] (any payload); from
//! then on the room sends it a message of that type, a varuint type followed by a JSON
//! string, for every thread change. Riding on the document's socket keeps events in
//! order with document updates (an accepted proposal's text change arrives before the
//! thread shows as resolved) and needs no second connection. A stock y-websocket client
//! never subscribes, so it never sees a message type it does not know.

use bytes::Bytes;
use serde::Serialize;

use crate::cluster::Notice;
use crate::comments::model::ThreadResponse;
use crate::ids::DocId;
use crate::state::AppState;
use crate::sync::protocol::write_var;
use crate::sync::room::RoomCommand;

/// The y-websocket message type of thread events (types 0–3 belong to y-protocols).
pub const MSG_EVENTS: u64 = 100;

/// What changed.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadEvent {
    /// A thread was opened or changed (comments, status, anchor): its full new state.
    Thread { thread: Box<ThreadResponse> },
}

/// The event as a WebSocket frame: varuint type, varuint length, JSON bytes.
pub fn frame(event: &ThreadEvent) -> Bytes {
    let json = serde_json::to_vec(event).unwrap_or_default();
    let mut out = Vec::with_capacity(json.len() + 8);
    write_var(&mut out, MSG_EVENTS);
    write_var(&mut out, json.len() as u64);
    out.extend_from_slice(&json);
    out.into()
}

/// Sends the event to the document's subscribed sockets on this node, if the document
/// is open here (if it is not, nobody is connected to be told), and tells the other nodes.
pub async fn publish(state: &AppState, doc: &DocId, event: ThreadEvent) {
    let ThreadEvent::Thread { thread } = &event;
    state.cluster.publish(Notice::Thread {
        d: doc.to_string(),
        id: thread.id.clone(),
    });
    deliver(state, doc, &event).await;
}

async fn deliver(state: &AppState, doc: &DocId, event: &ThreadEvent) {
    if let Some(room) = state.rooms.get(doc) {
        let _ = room.send(RoomCommand::Event(frame(event))).await;
    }
}

/// Another node changed a thread: clients here hear of it too, from the database's state.
pub async fn relay_from_elsewhere(state: &AppState, doc: &DocId, thread_id: &str) {
    if state.rooms.get(doc).is_none() {
        return;
    }
    match crate::comments::routes::thread_by_id(state, doc, thread_id).await {
        Ok(thread) => {
            deliver(
                state,
                doc,
                &ThreadEvent::Thread {
                    thread: Box::new(thread),
                },
            )
            .await
        }
        Err(error) => tracing::warn!(%error, "relaying another node's thread change failed"),
    }
}
