//! `GET /ws/{doc_id}?token=…`: one WebSocket connection to a document's room.
//!
//! The upgrade is always accepted and refusals are sent as close codes (see `close`),
//! because the y-websocket client retries an HTTP error forever. After admission the
//! connection runs two loops: this task reads and parses frames and feeds the room, a
//! writer task owns the sink and drains the outbox, pings, and closes when asked.
//!
//! One exception to "always upgrade": a client address over its connection limit gets
//! HTTP 429 before the upgrade, because a socket is exactly what it may not have more
//! of (the y-websocket client retries with backoff, which is what it should do).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::future::Either;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::auth::{AccessError, Identity, Role};
use crate::error::AppError;
use crate::ids::DocId;
use crate::limits::{ClientIp, IpSlot, Rate, TokenBucket};
use crate::serve::HttpSlot;
use crate::sync::ConnId;
use crate::sync::SyncContext;
use crate::sync::authority::Authority;
use crate::sync::authorship::Author;
use crate::sync::bulk;
use crate::sync::close::{self, CloseReason};
use crate::sync::presence::{self, PresenceError};
use crate::sync::protocol::{self, Inbound, ProtocolError, parse_frame};
use crate::sync::registry::RoomHandle;
use crate::sync::room::{Peer, RoomCommand};

/// Bytes read from a socket at a time.
const READ_BUFFER_BYTES: usize = 4096;
/// Frames that may wait in one client's outbox before it counts as too slow.
const OUTBOX_CAPACITY: usize = 1024;
/// How often the server pings an idle client.
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// A client silent for this long (no message, no pong) is disconnected.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a single write may take before the client counts as gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a write under way may still take once the connection is told to close.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How long a refused socket waits for the client's close reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The query string of the WebSocket URL.
#[derive(Debug, Deserialize)]
pub struct WsParams {
    token: Option<String>,
}

/// Upgrades and hands the socket to [`serve`].
pub async fn upgrade(
    State(state): State<SyncContext>,
    Path(doc): Path<String>,
    params: Result<Query<WsParams>, QueryRejection>,
    ClientIp(ip): ClientIp,
    http_slot: Option<Extension<HttpSlot>>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(slot) = state.limits.connections.acquire(ip) else {
        state
            .metrics
            .limit_hits
            .connections_per_ip
            .fetch_add(1, Relaxed);
        tracing::info!(%ip, "too many connections from one address");
        return AppError::TooManyRequests {
            message: "too many open connections from this address".into(),
            retry_after: Duration::from_secs(5),
        }
        .into_response();
    };
    // From here the connection counts as a WebSocket, not as an HTTP connection.
    if let Some(Extension(http_slot)) = http_slot {
        http_slot.release();
    }
    let token = params.ok().and_then(|Query(p)| p.token);
    let limit = state.config.max_message_bytes;
    // tungstenite zero-fills its read buffer up to this size before the first read; its
    // 128 KiB default made every idle connection cost ~140 KiB. Larger messages still
    // arrive whole: the buffer is only the unit of reading from the socket.
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            let (sink, stream) = socket.split();
            serve(state, doc, token, sink, stream, slot)
        })
}

type Sink = SplitSink<WebSocket, Message>;
type Stream = SplitStream<WebSocket>;

/// Runs one connection; `slot` holds its place in the per-address count until it ends.
///
/// This future is most of what an idle connection costs, so it is kept small: the
/// socket arrives already split (the whole `WebSocket`, 368 bytes, would otherwise stay
/// in the task for its life), and the body is an `async` block rather than an
/// `async fn`, whose arguments rustc keeps twice, as arguments and as locals (see
/// docs/BENCHMARKS.md, issue 19's memory figure).
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn keeps its arguments twice in the connection's task"
)]
fn serve(
    state: SyncContext,
    doc: String,
    token: Option<String>,
    mut sink: Sink,
    mut stream: Stream,
    slot: IpSlot,
) -> impl Future<Output = ()> {
    async move {
        let (doc, identity, role, owners_only) = match admit(&state, doc, token).await {
            Ok(admitted) => admitted,
            Err(reason) => {
                state.metrics.connections_refused.fetch_add(1, Relaxed);
                tracing::info!(code = reason.code, reason = %reason.reason, "connection refused");
                close_socket(&mut sink, &mut stream, reason).await;
                return;
            }
        };
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX_CAPACITY);
        let (close_tx, close_rx) = watch::channel(None);
        let close_tx = Arc::new(close_tx);
        let author = Author {
            user: identity.user.clone(),
            org: identity.org.clone(),
        };
        let authority = Authority::new(role, author);
        authority.set_owners_only(owners_only);
        let peer = Peer::new(
            identity.clone(),
            authority.clone(),
            outbox,
            Arc::clone(&close_tx),
        );
        // Boxed, as admission above: joining is awaited once, and inline its future (the
        // command, the peer, the retry loop) would size every connection's task for the
        // whole of its life (docs/BENCHMARKS.md, issue 19's memory figure).
        let (room, conn) = match Box::pin(state.rooms.join(&doc, peer)).await {
            Ok(joined) => joined,
            Err(error) => {
                tracing::warn!(doc = %doc, %error, "join failed");
                close_socket(
                    &mut sink,
                    &mut stream,
                    CloseReason::new(close::INTERNAL, "the document could not be opened"),
                )
                .await;
                return;
            }
        };
        state.metrics.connections.fetch_add(1, Relaxed);
        tracing::debug!(doc = %doc, user = %identity.user, conn, ?role, "connected");
        let mut writer = tokio::spawn(write_loop(
            sink,
            outbox_rx,
            close_rx,
            state.shutdown.clone(),
        ));
        let (writer_done, server_closed) = {
            let reader = read_loop(&mut stream, &room, conn, &authority, &state);
            tokio::pin!(reader);
            tokio::select! {
                reason = &mut reader => {
                    let closing = reason.is_some();
                    if let Some(reason) = reason {
                        count_close(&state, &reason);
                        tracing::info!(doc = %doc, conn, code = reason.code, reason = %reason.reason, "closing connection");
                        close_tx.send_replace(Some(reason));
                    }
                    (false, closing)
                }
                _ = &mut writer => {
                    // Closed by the room or by shutdown: give the client's close reply a moment.
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, &mut reader).await;
                    (true, false)
                }
            }
        };
        let _ = room.send(RoomCommand::Leave { conn }).await;
        // The writer ends once the room has dropped this peer's outbox, or on a close.
        if !writer_done
            && tokio::time::timeout(WRITE_TIMEOUT + CLOSE_TIMEOUT, writer)
                .await
                .is_err()
        {
            tracing::warn!(conn, "writer did not finish in time");
        }
        if server_closed {
            // Read (and ignore) what the client still sends until its close reply, so it
            // reads our close code instead of a reset that would discard it.
            await_close_reply(&mut stream).await;
        }
        // The address's place goes before the gauge drops, so whoever sees the gauge at n
        // never finds more than n places held (the per-address test waits on the gauge).
        drop(slot);
        state.metrics.connections.fetch_sub(1, Relaxed);
        tracing::debug!(doc = %doc, conn, "disconnected");
    }
}

/// Token, document, role and whether direct edits are for owners only now (the owners
/// require suggestions in the current phase); a close reason when any of them is missing.
/// A change of the rule after this read reaches the connection through its room.
async fn admit(
    state: &SyncContext,
    doc: String,
    token: Option<String>,
) -> Result<(DocId, Identity, Role, bool), CloseReason> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CloseReason::new(close::UNAUTHORIZED, "a token is required"))?;
    let identity = state
        .tokens
        .verify(&token)
        .map_err(|e| CloseReason::new(close::UNAUTHORIZED, e.to_string()))?;
    let grant = crate::auth::authorize(&state.db, &identity, &doc, Role::Viewer)
        .await
        .map_err(refusal)?;
    let owners_only = state
        .db
        .suggestions_required(&grant.doc)
        .await
        .map_err(|error| {
            tracing::error!(%error, "reading the suggestion rule failed");
            CloseReason::new(close::INTERNAL, "the server could not check access")
        })?;
    Ok((grant.doc, identity, grant.role, owners_only))
}

/// The close code for an access refusal: the same [`AccessError`] HTTP maps to a status.
fn refusal(error: AccessError) -> CloseReason {
    match error {
        AccessError::NoSuchDocument => CloseReason::new(close::NOT_FOUND, "no such document"),
        AccessError::NoAccess | AccessError::RoleTooWeak { .. } => {
            CloseReason::new(close::FORBIDDEN, "no access to this document")
        }
        AccessError::Archived => CloseReason::new(close::ARCHIVED, "the document is archived"),
        AccessError::Storage(error) => {
            tracing::error!(%error, "admission query failed");
            CloseReason::new(close::INTERNAL, "the server could not check access")
        }
    }
}

/// Reads until the client goes; returns why the server must close, if it must.
async fn read_loop(
    stream: &mut Stream,
    room: &RoomHandle,
    conn: ConnId,
    authority: &Authority,
    state: &SyncContext,
) -> Option<CloseReason> {
    let cancelled = state.shutdown.clone();
    let rate = state.config.limits.message_rate;
    let mut bucket = TokenBucket::new(rate, Instant::now());
    let byte_rate = state.config.limits.byte_rate;
    let mut byte_bucket = TokenBucket::new(
        Rate {
            per_sec: f64::from(byte_rate),
            burst: u32::try_from(state.config.max_message_bytes).unwrap_or(u32::MAX),
        },
        Instant::now(),
    );
    let too_many = || {
        CloseReason::new(
            close::RATE_LIMITED,
            format!("more than {} messages a second", rate.per_sec),
        )
    };
    let mut dropped_an_update = false;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(RECEIVE_TIMEOUT, stream.next()) => next,
            () = cancelled.cancelled() => return None,
        };
        let message = match next {
            Err(_) => {
                return Some(CloseReason::new(
                    close::GOING_AWAY,
                    "nothing received for 60 s",
                ));
            }
            Ok(None) => return None,
            Ok(Some(Err(error))) => return read_error(error, state.config.max_message_bytes),
            Ok(Some(Ok(message))) => message,
        };
        // A binary frame is charged per message inside it, below.
        if !matches!(message, Message::Close(_) | Message::Binary(_))
            && bucket.take(Instant::now()).is_err()
        {
            return Some(too_many());
        }
        match message {
            Message::Binary(frame) => {
                let now = Instant::now();
                if byte_bucket.take_many(frame.len() as u64, now).is_err() {
                    return Some(CloseReason::new(
                        close::RATE_LIMITED,
                        format!("more than {byte_rate} bytes a second"),
                    ));
                }
                let messages = match parse_frame(&frame, now) {
                    Ok(messages) => messages,
                    Err(error @ ProtocolError::TooManyMessages) => {
                        return Some(CloseReason::new(close::RATE_LIMITED, error.to_string()));
                    }
                    Err(error) => {
                        return Some(CloseReason::new(
                            close::MALFORMED,
                            format!("malformed message: {error}"),
                        ));
                    }
                };
                if bucket.take_many(messages.len() as u64, now).is_err() {
                    return Some(too_many());
                }
                let messages = match checked_presence(messages) {
                    Ok(messages) => messages,
                    Err(error) => {
                        return Some(CloseReason::new(
                            close::MALFORMED,
                            format!("invalid presence: {error}"),
                        ));
                    }
                };
                for message in messages {
                    // A read-only connection's updates never reach the room's queue.
                    if let Inbound::Update(incoming) = &message
                        && !authority.can_edit()
                    {
                        // Empty ones are every client's answer to the server's step 1.
                        if !incoming.update.is_empty() {
                            state
                                .metrics
                                .updates_dropped_read_only
                                .fetch_add(1, Relaxed);
                            dropped_an_update = true;
                        }
                        continue;
                    }
                    // Text that was dropped is not saved: such a connection's "saved"
                    // markers go unanswered (`sync::room::saving`).
                    if matches!(message, Inbound::Saved(_)) && dropped_an_update {
                        continue;
                    }
                    let from = authority.clone();
                    let command = RoomCommand::Message {
                        conn,
                        message,
                        from,
                    };
                    if room.send(command).await.is_err() {
                        return None;
                    }
                }
            }
            Message::Text(_) => {
                return Some(CloseReason::new(
                    close::MALFORMED,
                    "text frames are not part of the y-websocket protocol",
                ));
            }
            Message::Close(_) => return None,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// Checks every awareness message of a frame (see [`presence::validate`]) and merges
/// them into one, placed where the first was, so a frame is relayed at most once.
fn checked_presence(messages: Vec<Inbound>) -> Result<Vec<Inbound>, PresenceError> {
    let mut updates = Vec::new();
    let mut first = None;
    let mut rest = Vec::with_capacity(messages.len());
    for message in messages {
        match message {
            Inbound::Awareness { update, .. } => {
                presence::validate(&update)?;
                first.get_or_insert(rest.len());
                updates.push(update);
            }
            other => rest.push(other),
        }
    }
    if let Some(at) = first {
        let update = presence::coalesce(updates);
        let message = protocol::awareness(update.clone());
        rest.insert(at, Inbound::Awareness { update, message });
    }
    Ok(rest)
}

/// A read error worth a close frame: an oversized message. Others mean the socket is gone.
fn read_error(error: axum::Error, limit: usize) -> Option<CloseReason> {
    use tokio_tungstenite::tungstenite::Error as WsError;
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    let inner = error.into_inner();
    match inner.downcast_ref::<WsError>() {
        Some(WsError::Capacity(_)) => Some(CloseReason::new(
            close::TOO_LARGE,
            format!("message larger than {limit} bytes"),
        )),
        // A client that vanished without a close frame is gone, not malformed.
        Some(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => None,
        Some(WsError::Protocol(e)) => Some(CloseReason::new(
            close::MALFORMED,
            format!("protocol error: {e}"),
        )),
        _ => None,
    }
}

/// Counts a close the server chose in the metric that explains it.
fn count_close(state: &SyncContext, reason: &CloseReason) {
    let metrics = &state.metrics;
    match reason.code {
        close::RATE_LIMITED => {
            metrics.limit_hits.message_rate.fetch_add(1, Relaxed);
        }
        close::TOO_LARGE => {
            metrics.limit_hits.message_size.fetch_add(1, Relaxed);
            metrics.malformed_messages.fetch_add(1, Relaxed);
        }
        close::MALFORMED => {
            metrics.malformed_messages.fetch_add(1, Relaxed);
        }
        _ => {}
    }
}

async fn write_loop(
    mut sink: Sink,
    mut outbox: mpsc::Receiver<Bytes>,
    mut close_rx: watch::Receiver<Option<CloseReason>>,
    shutdown: CancellationToken,
) {
    let start = tokio::time::Instant::now() + PING_INTERVAL;
    let mut ping = tokio::time::interval_at(start, PING_INTERVAL);
    let mut close_open = true;
    loop {
        tokio::select! {
            biased;
            changed = close_rx.changed(), if close_open => {
                if changed.is_err() {
                    close_open = false;
                    continue;
                }
                let reason = close_rx.borrow_and_update().clone();
                if let Some(reason) = reason {
                    send_close(&mut sink, reason).await;
                    return;
                }
            }
            () = shutdown.cancelled() => {
                send_close(&mut sink, CloseReason::new(close::RESTARTING, "the server is restarting")).await;
                return;
            }
            frame = outbox.recv() => match frame {
                Some(frame) => match write_frame(sink, frame, &mut close_rx).await {
                    Written::Sent(back) => sink = back,
                    Written::Failed => return,
                    Written::ThenClose(mut back, reason) => {
                        send_close(&mut back, reason).await;
                        return;
                    }
                },
                None => {
                    // The room let this peer go. If that was to close it, the close
                    // code must still reach the client: a bare close reads as 1005.
                    let reason = close_rx.borrow_and_update().clone();
                    match reason {
                        Some(reason) => send_close(&mut sink, reason).await,
                        None => {
                            let _ = sink.close().await;
                        }
                    }
                    return;
                }
            },
            _ = ping.tick() => {
                if !matches!(tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Ping(Bytes::new()))).await, Ok(Ok(()))) {
                    return;
                }
            }
        }
    }
}

/// How a frame's write ended; the sink comes back with every outcome it can still serve.
enum Written {
    Sent(Sink),
    /// The write failed, timed out, or was still unfinished when the connection was told
    /// to close: nothing more can be sent.
    Failed,
    /// The connection was told to close during the write, which then finished.
    ThenClose(Sink, CloseReason),
}

/// Writes one frame. Told to close meanwhile, it gives the write [`CLOSE_GRACE`] to
/// finish so the close frame can follow it: a write is often only waiting its turn for
/// the socket, which the reading half holds while it polls, and dropping it then left
/// the client a connection ended without a close code. A write still unfinished after
/// that means the client is not reading; a half-written frame leaves no way to send a
/// close frame, so the connection is dropped and the client reconnects and re-syncs.
///
/// The sink is handed in and back: a frame of [`bulk::BULK_FROM_BYTES`] or more is
/// written on the bulk thread (`sync::bulk`), which needs the sink for the time of the
/// write.
async fn write_frame(
    mut sink: Sink,
    frame: Bytes,
    close_rx: &mut watch::Receiver<Option<CloseReason>>,
) -> Written {
    let large = frame.len() >= bulk::BULK_FROM_BYTES;
    let send = async move {
        let sent = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Binary(frame))).await;
        (sink, matches!(sent, Ok(Ok(()))))
    };
    let on_bulk = if large { bulk::spawn(send) } else { Err(send) };
    let sending = match on_bulk {
        // Given up on (the client stopped reading before a close), the write is aborted
        // and the sink dropped with it, as an inline write would be.
        Ok(task) => Either::Left(async { AbortOnDropHandle::new(task).await.ok() }),
        Err(send) => Either::Right(async { Some(send.await) }),
    };
    tokio::pin!(sending);
    tokio::select! {
        sent = &mut sending => match sent {
            Some((sink, true)) => Written::Sent(sink),
            _ => Written::Failed,
        },
        _ = close_rx.changed() => {
            let finished = tokio::time::timeout(CLOSE_GRACE, &mut sending).await;
            let reason = close_rx.borrow_and_update().clone();
            match (finished, reason) {
                (Ok(Some((sink, true))), Some(reason)) => Written::ThenClose(sink, reason),
                (Ok(Some((sink, true))), None) => Written::Sent(sink),
                _ => Written::Failed,
            }
        }
    }
}

async fn send_close(sink: &mut Sink, reason: CloseReason) {
    let frame = CloseFrame {
        code: reason.code,
        reason: reason.reason.into(),
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
}

/// Closes a socket that was never admitted, waiting briefly for the client's reply.
async fn close_socket(sink: &mut Sink, stream: &mut Stream, reason: CloseReason) {
    send_close(sink, reason).await;
    await_close_reply(stream).await;
}

/// Waits briefly for the client's close frame, skipping whatever comes before it.
async fn await_close_reply(stream: &mut Stream) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
