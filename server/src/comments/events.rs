//! Live thread events on the document's own WebSocket.
//!
//! A client that wants them sends one message of type [`MSG_EVENTS`] (any payload); from
//! then on the room sends it a message of that type, a varuint type followed by a JSON
//! string, for every thread change. Riding on the document's socket keeps events in
//! order with document updates (an accepted proposal's text change arrives before the
//! thread shows as resolved) and needs no second connection. A stock y-websocket client
//! never subscribes, so it never sees a message type it does not know.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::comments::CommentsContext;
use crate::comments::model::ThreadResponse;
use crate::ids::DocId;
use crate::sync::hooks::{Hooks, MessageKind};
use crate::sync::live::{LiveEvent, Reload, Reloaders, json_frame};

/// The y-websocket message type of thread events (types 0–3 belong to y-protocols).
pub const MSG_EVENTS: u64 = 100;

/// [`MSG_EVENTS`] as the sync core's message kind.
pub const EVENTS: MessageKind = match MessageKind::custom(MSG_EVENTS) {
    Some(kind) => kind,
    None => panic!("type 100 is not one of y-protocols' own"),
};

/// What changed.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadEvent {
    /// A thread was opened or changed (comments, status, anchor): its full new state.
    Thread { thread: Box<ThreadResponse> },
}

/// The event as a WebSocket frame: varuint type, varuint length, JSON bytes.
pub fn frame(event: &ThreadEvent) -> Bytes {
    json_frame(EVENTS, event)
}

/// Registers the thread events' message type with the sync core: a client sending it
/// subscribes to thread events.
pub fn register(hooks: Hooks) -> Hooks {
    hooks.subscription(EVENTS)
}

/// Registers how another node's thread notice becomes a frame here: the thread is read
/// from the database, as this node's clients must see it.
pub fn register_reload(reloaders: Reloaders, state: &CommentsContext) -> Reloaders {
    let state = state.clone();
    let reload: Reload = Arc::new(move |doc, thread_id| {
        let state = state.clone();
        Box::pin(async move { reload(&state, &doc, &thread_id).await })
    });
    reloaders.with(EVENTS, reload)
}

/// Sends the event to the document's subscribed sockets on this node, if the document
/// is open here (if it is not, nobody is connected to be told), and tells the other nodes.
pub async fn publish(state: &CommentsContext, doc: &DocId, event: ThreadEvent) {
    let ThreadEvent::Thread { thread } = &event;
    let event = LiveEvent {
        kind: EVENTS,
        key: thread.id.clone(),
        frame: frame(&event),
    };
    state.rooms.live().publish(doc, event).await;
}

/// Another node changed a thread: clients here hear of it too, from the database's state.
async fn reload(state: &CommentsContext, doc: &DocId, thread_id: &str) -> Option<Bytes> {
    match crate::comments::routes::thread_by_id(state, doc, thread_id).await {
        Ok(thread) => Some(frame(&ThreadEvent::Thread {
            thread: Box::new(thread),
        })),
        Err(error) => {
            tracing::warn!(%error, "relaying another node's thread change failed");
            None
        }
    }
}
