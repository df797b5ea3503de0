//! Live round events on the document's own socket: the phase, the svarsdatum and the
//! invitees' answers, for everyone with the document open.
//!
//! The same mechanism as thread events (`comments::events`): a client that sends one
//! message of type [`MSG_ROUND`] subscribes; the room then sends it type [`MSG_ROUND`]
//! followed by a JSON string `{"type": "round", "round": {…}}` (the round as
//! `GET /api/documents/{id}/remiss` answers it) after every committed change to the round
//! or an answer. A type of its own, rather than riding on type 100, keeps each kind's
//! reload on another node one function keyed by one kind of key (a thread id there,
//! nothing here: a round is the document's), and a client that shows no round never
//! subscribes. Other nodes reload the round from the database, as for threads.

use std::sync::Arc;

use bytes::Bytes;
use serde::Serialize;

use crate::consultation::model::RoundResponse;
use crate::ids::DocId;
use crate::remiss::RemissContext;
use crate::remiss::round;
use crate::sync::hooks::{Hooks, MessageKind};
use crate::sync::live::{LiveEvent, Reload, Reloaders, json_frame};

/// The y-websocket message type of round events (100 is thread events, 101 the sync
/// core's "saved" markers).
pub const MSG_ROUND: u64 = 102;

/// [`MSG_ROUND`] as the sync core's message kind.
pub const ROUND: MessageKind = match MessageKind::custom(MSG_ROUND) {
    Some(kind) => kind,
    None => panic!("type 102 is neither y-protocols' own nor the sync core's"),
};

/// The key of a round event: there is one round per document.
const KEY: &str = "round";

/// What changed.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RoundEvent {
    /// The round's new state, invitees included.
    Round { round: Box<RoundResponse> },
}

/// The event as a WebSocket frame: varuint type, varuint length, JSON bytes.
fn frame(round: RoundResponse) -> Bytes {
    let event = RoundEvent::Round {
        round: Box::new(round),
    };
    json_frame(ROUND, &event)
}

/// Registers the round events' message type with the sync core.
pub fn register(hooks: Hooks) -> Hooks {
    hooks.subscription(ROUND)
}

/// Registers how another node's round notice becomes a frame here: the round is read
/// from the database.
pub fn register_reload(reloaders: Reloaders, state: &RemissContext) -> Reloaders {
    let state = state.clone();
    let reload: Reload = Arc::new(move |doc, _key| {
        let state = state.clone();
        Box::pin(async move { reload(&state, &doc).await })
    });
    reloaders.with(ROUND, reload)
}

/// After a committed change to the round of `doc` (or an answer): its subscribed sockets
/// here and on the other nodes receive the round as it now stands, and every connection
/// to it, here and there, learns whether changes must be suggested now (the rule rides on
/// the round's notice: the other nodes reread the round for the frame anyway). A failed
/// read is logged; the pages catch up when they next reload the round, and the rooms
/// at the next membership recheck (`sync::membership`).
pub async fn publish(state: &RemissContext, doc: &DocId, round: RoundResponse) {
    state
        .rooms
        .set_owners_only(doc, round.suggestions_required)
        .await;
    let event = LiveEvent {
        kind: ROUND,
        key: KEY.to_owned(),
        frame: frame(round),
    };
    state.rooms.live().publish(doc, event).await;
}

async fn reload(state: &RemissContext, doc: &DocId) -> Option<Bytes> {
    match round::load(&state.db, doc, None).await {
        Ok(round) => {
            state
                .rooms
                .set_owners_only(doc, round.suggestions_required)
                .await;
            Some(frame(round))
        }
        Err(error) => {
            tracing::warn!(%error, "relaying another node's round change failed");
            None
        }
    }
}
