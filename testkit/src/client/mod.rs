//! A y-websocket client over a real WebSocket, holding a yrs `Doc`: the one the
//! integration tests and the benchmarks both drive the server with.
//!
//! It speaks the protocol as the npm `y-websocket` provider does: on open it sends sync
//! step 1, answers the server's step 1 with a step 2, counts as synced on the server's
//! step 2, and sends each local change as a sync update (0, 2, update). It also keeps
//! what a test looks at: others' presence, thread events (custom type 100) and the close
//! code and reason when the server ends the socket. Hocuspocus speaks the same messages
//! in its own framing ([`Framing::Hocuspocus`]), for comparing with that peer.
//!
//! Reading is split in two so a caller can `select!` on the socket next to a timer:
//! [`YClient::next_frame`] is only the stream's `next()`, which is cancel-safe, while
//! [`YClient::handle`] applies the frame and may write a reply, so it must run to the end.
//! [`YClient::wait_for`] and [`YClient::expect_close`] do both in a loop.

mod editing;
mod framing;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;
use yrs::sync::{Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, OffsetKind, Options, ReadTxn, StateVector, Transact, Update};

pub use framing::Framing;
use framing::hocuspocus;

/// Longest one send or a close may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connect with its handshake, or any wait for the server, may take.
pub const WAIT: Duration = Duration::from_secs(20);
/// Initial size of a client's read buffer. Small, so ten thousand idle clients in one
/// process stay cheap; it grows for a large sync step 2.
const READ_BUFFER_BYTES: usize = 4096;
/// Messages queued before a pipelined send flushes the socket.
const PIPELINE_FLUSH_EVERY: usize = 64;
/// Longest one pipelined write may wait for the socket. A push of a whole trace (the
/// cold-load benchmark's 259,778 updates) meets the server's backpressure while it
/// commits, longest on a debug build on a loaded machine, where [`IO_TIMEOUT`] cut the
/// push short; this only guards against a server that stopped reading.
const PIPELINE_IO_TIMEOUT: Duration = Duration::from_secs(120);
/// The custom message type of thread events (see the server's `sync::protocol`).
const THREAD_EVENTS: u8 = 100;
/// The sync core's "saved" marker and its answer (`sync::room::saving`).
const SAVED: u8 = 101;
/// The custom message type of remiss round events (the server's `remiss::events`).
const ROUND_EVENTS: u8 = 102;

/// The socket a client reads and writes.
pub type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A `Doc` that counts text offsets in UTF-16 units, as Yjs and ProseMirror do (see
/// TECHNOTES: a default yrs `Doc` counts UTF-8 bytes and misplaces every "å ä ö").
pub fn new_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// A `Doc` like [`new_doc`] with a chosen client id: a load generator's readers must
/// know whose clock to watch before the writer has connected.
pub fn new_doc_with_id(client_id: u64) -> Doc {
    Doc::with_options(Options {
        client_id: ClientID::new(client_id),
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// How long a connection took to open and to sync, from the start of the connect.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTimes {
    /// TCP connect and WebSocket upgrade.
    pub handshake: Duration,
    /// Until the server's sync step 2 was applied: the client holds the document.
    pub synced: Duration,
}

/// One connection to a document's room.
pub struct YClient {
    ws: WsStream,
    pub doc: Doc,
    /// Others' presence by client id (their awareness JSON).
    pub presence: HashMap<u64, String>,
    /// Whether the server's step 2 has arrived since the last step 1 we sent.
    pub synced: bool,
    /// The close code and reason, once the server has ended the socket.
    pub closed: Option<(u16, String)>,
    /// Binary frames read so far.
    pub frames_received: usize,
    /// Thread events received (after [`YClient::subscribe_events`]).
    pub events: Vec<Value>,
    /// The "saved" markers the server answered, in order (see [`YClient::mark_saved`]).
    pub saved: Vec<u64>,
    framing: Framing,
    /// What the server sent, without the client's own changes (see [`YClient::observe`]).
    observed: Option<Doc>,
}

impl YClient {
    /// Connects with y-websocket framing and completes the handshake: our step 1
    /// answered by the server's step 2.
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(Self::connect_with(url, Framing::YWebsocket, new_doc())
            .await?
            .0)
    }

    /// Connects with the given framing and `doc`, completes the handshake, and says how
    /// long each part took.
    pub async fn connect_with(
        url: &str,
        framing: Framing,
        doc: Doc,
    ) -> Result<(Self, ConnectTimes)> {
        let started = Instant::now();
        let mut client = Self::open(url, framing, doc).await?;
        let handshake = started.elapsed();
        if let Some(hello) = client.framing.hello() {
            // The provider sends its token first and its step 1 right after, without
            // waiting: the server queues messages until the token is accepted.
            client.send_frame(hello).await?;
        }
        client
            .sync()
            .await
            .context("the server sent no sync step 2 in time")?;
        let synced = started.elapsed();
        Ok((client, ConnectTimes { handshake, synced }))
    }

    /// Opens the socket without any protocol messages.
    pub async fn connect_unsynced(url: &str) -> Result<Self> {
        Self::open(url, Framing::YWebsocket, new_doc()).await
    }

    /// A client on a socket opened elsewhere (custom headers, TCP options).
    pub fn from_socket(ws: WsStream) -> Self {
        Self::on(ws, Framing::YWebsocket, new_doc())
    }

    /// Moves to another server (as a provider does when its node goes away), keeping
    /// the document: both sides' sync steps bring each other up to date.
    pub async fn reconnect(&mut self, url: &str) -> Result<()> {
        self.ws = Self::open(url, self.framing.clone(), new_doc()).await?.ws;
        self.closed = None;
        self.sync().await
    }

    async fn open(url: &str, framing: Framing, doc: Doc) -> Result<Self> {
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
        // TCP_NODELAY, as browsers set it: Nagle's algorithm would hold small frames back.
        let (ws, _) = timeout(
            WAIT,
            tokio_tungstenite::connect_async_with_config(url, Some(config), true),
        )
        .await
        .context("connecting timed out")?
        .context("connecting")?;
        Ok(Self::on(ws, framing, doc))
    }

    fn on(ws: WsStream, framing: Framing, doc: Doc) -> Self {
        Self {
            ws,
            doc,
            presence: HashMap::new(),
            synced: false,
            closed: None,
            frames_received: 0,
            events: Vec::new(),
            saved: Vec::new(),
            framing,
            observed: None,
        }
    }

    /// Sends our step 1 and reads until the server's step 2 has been applied.
    async fn sync(&mut self) -> Result<()> {
        self.synced = false;
        let sv = self.state_vector();
        self.send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await?;
        self.wait_for(|c| c.synced).await
    }

    /// The client's copy of the document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The client's state vector.
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// From now on, also keeps apart what the server sends: what the client holds now
    /// (right after connecting, only the server's step 2) and every later update from the
    /// server, none of the client's own changes. Since the server relays only what it has
    /// stored, that is what the server has acknowledged as durable.
    pub fn observe(&mut self) -> Result<()> {
        let state = self
            .doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let observed = new_doc();
        observed
            .transact_mut()
            .apply_update(Update::decode_v1(&state)?)?;
        self.observed = Some(observed);
        Ok(())
    }

    /// What the server has sent since [`YClient::observe`].
    pub fn observed(&self) -> Option<&Doc> {
        self.observed.as_ref()
    }

    /// Sends one message in its own frame (in this connection's framing); returns the
    /// frame's size.
    pub async fn send_message(&mut self, message: Message) -> Result<usize> {
        let bytes = self.framing.frame(message.encode_v1());
        self.send_frame(bytes).await
    }

    /// Sends a local change (the bytes of `encode_update_v1`) as a sync update; returns
    /// the size of the WebSocket message.
    pub async fn send_update(&mut self, update: Vec<u8>) -> Result<usize> {
        self.send_message(Message::Sync(SyncMessage::Update(update)))
            .await
    }

    /// Sends many updates back to back, each in its own WebSocket message, without
    /// waiting for anything between them: the frames are written as the socket takes
    /// them (flushed every [`PIPELINE_FLUSH_EVERY`]), so the server sees a stream of
    /// separate updates as fast as one connection can carry them.
    pub async fn send_updates_pipelined(&mut self, updates: &[Vec<u8>]) -> Result<()> {
        for (i, update) in updates.iter().enumerate() {
            let message = Message::Sync(SyncMessage::Update(update.clone()));
            let bytes = self.framing.frame(message.encode_v1());
            timeout(
                PIPELINE_IO_TIMEOUT,
                self.ws.feed(WsMessage::Binary(bytes.into())),
            )
            .await
            .context("sending timed out")?
            .context("sending")?;
            if (i + 1) % PIPELINE_FLUSH_EVERY == 0 {
                timeout(PIPELINE_IO_TIMEOUT, self.ws.flush())
                    .await
                    .context("flushing timed out")?
                    .context("flushing")?;
            }
        }
        timeout(PIPELINE_IO_TIMEOUT, self.ws.flush())
            .await
            .context("flushing timed out")?
            .context("flushing")
    }

    /// Sends bytes as one binary frame, as they are (no framing prefix): for malformed
    /// and hand-built frames. Returns the frame's size.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<usize> {
        self.send_frame(bytes).await
    }

    /// Sends a text frame (which the protocol does not use).
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        timeout(IO_TIMEOUT, self.ws.send(WsMessage::Text(text.into())))
            .await
            .context("sending timed out")?
            .context("sending")
    }

    async fn send_frame(&mut self, bytes: Vec<u8>) -> Result<usize> {
        let len = bytes.len();
        timeout(IO_TIMEOUT, self.ws.send(WsMessage::Binary(bytes.into())))
            .await
            .context("sending timed out")?
            .context("sending")?;
        Ok(len)
    }

    /// Asks the server for thread events on this socket, and waits until it has seen the
    /// request: the room answers one connection's messages in order, so the answer to a
    /// sync step 1 sent after it proves the subscription is in place.
    pub async fn subscribe_events(&mut self) -> Result<()> {
        self.send_message(Message::Custom(THREAD_EVENTS, b"threads".to_vec()))
            .await?;
        self.sync().await
    }

    /// Asks to hear when everything sent so far is stored: a message of type 101 whose
    /// payload is `marker` as a varuint. The answer lands in [`YClient::saved`].
    pub async fn mark_saved(&mut self, marker: u64) -> Result<()> {
        let mut payload = Vec::new();
        payload.write_var(marker);
        self.send_message(Message::Custom(SAVED, payload)).await?;
        Ok(())
    }

    /// Asks the server for the remiss round's events (custom type 102) on this socket, as
    /// [`YClient::subscribe_events`] does for threads; they land in `events` too, told
    /// apart by their `"type"` (`"round"`).
    pub async fn subscribe_round_events(&mut self) -> Result<()> {
        self.send_message(Message::Custom(ROUND_EVENTS, b"round".to_vec()))
            .await?;
        self.sync().await
    }

    /// The next frame from the server. Cancel-safe; an ended stream is an error, since
    /// the server never closes a healthy connection on its own.
    pub async fn next_frame(&mut self) -> Result<WsMessage> {
        match self.ws.next().await {
            Some(frame) => frame.context("reading from the server"),
            None => bail!("the server closed the connection"),
        }
    }

    /// Handles one frame; returns whether it brought document content (a step 2 or an
    /// update), which the caller may then look for in the `Doc`. A close frame is
    /// recorded in [`YClient::closed`] and is an error here: a caller measuring a healthy
    /// connection never expects one.
    pub async fn handle(&mut self, frame: WsMessage) -> Result<bool> {
        match frame {
            WsMessage::Binary(bytes) => {
                self.frames_received += 1;
                self.handle_binary(&bytes).await
            }
            WsMessage::Close(frame) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Status), String::new()));
                self.closed = Some((code, reason.clone()));
                bail!("the server closed with {code}: {reason}")
            }
            // Pongs to the server's pings go out on the next read or write by themselves.
            _ => Ok(false),
        }
    }

    /// Reads and handles messages until `done` holds, the socket closes, or [`WAIT`]
    /// passes.
    pub async fn wait_for(&mut self, done: impl Fn(&Self) -> bool) -> Result<()> {
        timeout(WAIT, async {
            while !done(self) {
                if self.closed.is_some() {
                    bail!("the server closed the socket: {:?}", self.closed);
                }
                self.read_one().await?;
            }
            Ok(())
        })
        .await
        .context("timed out")?
    }

    /// Waits for the server to close the socket; returns the code and reason.
    pub async fn expect_close(&mut self) -> Result<(u16, String)> {
        timeout(WAIT, async {
            while self.closed.is_none() {
                self.read_one().await?;
            }
            Ok::<_, anyhow::Error>(())
        })
        .await
        .context("timed out waiting for a close")??;
        self.closed.clone().context("closed")
    }

    /// Reads one frame; the end of the socket, however it comes, is recorded in
    /// [`YClient::closed`] rather than returned as an error.
    async fn read_one(&mut self) -> Result<()> {
        let frame = match self.ws.next().await {
            None => {
                self.closed.get_or_insert((1006, "stream ended".into()));
                return Ok(());
            }
            Some(Err(error)) => {
                self.closed.get_or_insert((1006, error.to_string()));
                return Ok(());
            }
            Some(Ok(frame)) => frame,
        };
        if matches!(frame, WsMessage::Close(_)) {
            // `handle` records the code; for a waiting test the close is news, not a fault.
            let _ = self.handle(frame).await;
            return Ok(());
        }
        self.handle(frame).await.map(|_| ())
    }

    async fn handle_binary(&mut self, bytes: &[u8]) -> Result<bool> {
        match self.framing {
            Framing::YWebsocket => {
                let mut content = false;
                let mut decoder = DecoderV1::from(bytes);
                // A frame may pack several messages.
                for message in MessageReader::new(&mut decoder) {
                    let message = message.context("a frame from the server does not decode")?;
                    content |= self.on_message(message).await?;
                }
                Ok(content)
            }
            Framing::Hocuspocus { .. } => self.handle_hocuspocus(bytes).await,
        }
    }

    /// One Hocuspocus frame: the document name, a type, and for sync types a y-protocols
    /// sync message.
    async fn handle_hocuspocus(&mut self, bytes: &[u8]) -> Result<bool> {
        let mut cursor = Cursor::new(bytes);
        cursor
            .read_string()
            .context("a Hocuspocus frame without a document name")?;
        let kind: u32 = cursor
            .read_var()
            .context("a Hocuspocus frame without a type")?;
        match kind {
            hocuspocus::SYNC | hocuspocus::SYNC_REPLY => {
                let mut decoder = DecoderV1::from(&bytes[cursor.next..]);
                let message = SyncMessage::decode(&mut decoder)
                    .context("a Hocuspocus sync message does not decode")?;
                self.on_message(Message::Sync(message)).await
            }
            hocuspocus::AUTH => {
                let sub: u64 = cursor.read_var().context("a truncated auth message")?;
                if sub == hocuspocus::AUTH_PERMISSION_DENIED {
                    let reason = cursor.read_string().unwrap_or("(no reason)");
                    bail!("permission denied: {reason}");
                }
                Ok(false)
            }
            hocuspocus::CLOSE => {
                let reason = cursor.read_string().unwrap_or("(no reason)");
                bail!("the server closed the document: {reason}")
            }
            // Awareness, sync status (an update's acknowledgement), stateless, pings.
            _ => Ok(false),
        }
    }

    /// Applies one message; returns whether it brought document content.
    async fn on_message(&mut self, message: Message) -> Result<bool> {
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                let diff = self.doc.transact().encode_diff_v1(&sv);
                self.send_message(Message::Sync(SyncMessage::SyncStep2(diff)))
                    .await?;
                Ok(false)
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                self.apply(&update)?;
                self.synced = true;
                Ok(true)
            }
            Message::Sync(SyncMessage::Update(update)) => {
                self.apply(&update)?;
                Ok(true)
            }
            Message::Awareness(update) => {
                for (client, entry) in update.clients {
                    if &*entry.json == "null" {
                        self.presence.remove(&client.get());
                    } else {
                        self.presence.insert(client.get(), entry.json.to_string());
                    }
                }
                Ok(false)
            }
            Message::Custom(THREAD_EVENTS | ROUND_EVENTS, json) => {
                self.events
                    .push(serde_json::from_slice(&json).context("a thread event is not JSON")?);
                Ok(false)
            }
            Message::Custom(SAVED, payload) => {
                let mut cursor = Cursor::new(&payload);
                let marker: u64 = cursor
                    .read_var()
                    .context("a saved answer without a marker")?;
                self.saved.push(marker);
                Ok(false)
            }
            Message::Auth(Some(reason)) => bail!("permission denied: {reason}"),
            // Awareness queries and other custom messages carry no content.
            _ => Ok(false),
        }
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
        if let Some(observed) = &self.observed {
            let decoded = Update::decode_v1(update).context("an update does not decode")?;
            observed
                .transact_mut()
                .apply_update(decoded)
                .context("an update does not apply")?;
        }
        let update = Update::decode_v1(update).context("an update does not decode")?;
        self.doc
            .transact_mut()
            .apply_update(update)
            .context("an update does not apply")
    }

    /// Closes the socket and waits (bounded) for the server's close reply, so the
    /// server sees a clean leave rather than a dropped connection.
    pub async fn close(mut self) -> Result<()> {
        timeout(IO_TIMEOUT, async {
            self.ws.close(None).await?;
            // Read until the server's close frame ends the stream.
            while let Some(Ok(_)) = self.ws.next().await {}
            Ok::<_, anyhow::Error>(())
        })
        .await
        .context("closing timed out")?
        .context("closing")
    }
}
