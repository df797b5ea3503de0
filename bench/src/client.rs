//! A y-websocket client over a real WebSocket, holding a yrs `Doc`.
//!
//! It speaks the protocol as the npm `y-websocket` provider does: on open it sends sync
//! step 1, answers the server's step 1 with a step 2, counts as synced on the server's
//! step 2, and sends each local change as a sync update (0, 2, update). It sends no
//! awareness: presence traffic grows with the square of a room's size and would measure
//! something else than document fan-out.
//!
//! Hocuspocus speaks the same messages in its own framing ([`Framing::Hocuspocus`]), read
//! from `@hocuspocus/provider` 4.7 (`OutgoingMessages/*.ts`, `MessageReceiver.ts`) and
//! checked against the real server: every message starts with the document name as a
//! varString, the first is an auth message (type 2, sub-type 0 = token, the token, the
//! provider's version), the server answers a step 1 with a step 2 and its own step 1 as
//! type 4 ("sync reply"), and acknowledges each update with a type 8 ("sync status").
//!
//! Reading is split in two so a caller can `select!` on the socket next to a timer:
//! [`YClient::next_frame`] is only the stream's `next()`, which is cancel-safe, while
//! [`YClient::handle`] applies the frame and may write a reply, so it must run to the end.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::encoding::read::{Cursor, Read};
use yrs::sync::{Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, OffsetKind, Options, ReadTxn, Transact, Update};

/// Longest a connect, a handshake, one send or a close may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Initial size of a client's read buffer. Small, so ten thousand idle clients in one
/// process stay cheap; it grows for a large sync step 2.
const READ_BUFFER_BYTES: usize = 4096;

/// Messages queued before a pipelined send flushes the socket.
const PIPELINE_FLUSH_EVERY: usize = 64;

/// Hocuspocus message types (`@hocuspocus/server` `types.ts`).
mod hocuspocus {
    pub const SYNC: u32 = 0;
    pub const AUTH: u32 = 2;
    /// A sync message that asks for no further step 1.
    pub const SYNC_REPLY: u32 = 4;
    pub const CLOSE: u32 = 7;
    /// Auth sub-types (`@hocuspocus/common` `auth.ts`).
    pub const AUTH_TOKEN: u64 = 0;
    pub const AUTH_PERMISSION_DENIED: u64 = 1;
    /// The provider version the auth message names (the one pinned in bench/peers).
    pub const PROVIDER_VERSION: &str = "4.7.0";
    /// Hocuspocus accepts any token when no extension authenticates.
    pub const TOKEN: &str = "forankra-bench";
}

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

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

/// How the y-protocols messages travel on the socket.
#[derive(Debug, Clone)]
pub enum Framing {
    /// As `y-websocket` sends them: one message per frame, the document named by the URL.
    YWebsocket,
    /// As `@hocuspocus/provider` sends them: each prefixed with the document name.
    Hocuspocus {
        /// The document name, already encoded as a varString.
        prefix: Vec<u8>,
    },
}

impl Framing {
    /// Hocuspocus framing for `document`.
    pub fn hocuspocus(document: &str) -> Self {
        let mut prefix = Vec::with_capacity(document.len() + 2);
        write_var_string(&mut prefix, document);
        Self::Hocuspocus { prefix }
    }
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
    doc: Doc,
    synced: bool,
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
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
        // TCP_NODELAY, as browsers set it: Nagle's algorithm would hold small frames back.
        let (ws, _) = timeout(
            IO_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(url, Some(config), true),
        )
        .await
        .context("connecting timed out")?
        .context("connecting")?;
        let handshake = started.elapsed();
        let mut client = Self {
            ws,
            doc,
            synced: false,
            framing,
            observed: None,
        };
        if let Framing::Hocuspocus { prefix } = &client.framing {
            // The provider sends its token first and its step 1 right after, without
            // waiting: the server queues messages until the token is accepted.
            let mut auth = prefix.clone();
            write_var(&mut auth, u64::from(hocuspocus::AUTH));
            write_var(&mut auth, hocuspocus::AUTH_TOKEN);
            write_var_string(&mut auth, hocuspocus::TOKEN);
            write_var_string(&mut auth, hocuspocus::PROVIDER_VERSION);
            client.send_frame(auth).await?;
        }
        let sv = client.doc.transact().state_vector();
        client
            .send(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await?;
        timeout(IO_TIMEOUT, async {
            while !client.synced {
                let frame = client.next_frame().await?;
                client.handle(frame).await?;
            }
            Ok::<_, anyhow::Error>(())
        })
        .await
        .context("the server sent no sync step 2 in time")??;
        let synced = started.elapsed();
        Ok((client, ConnectTimes { handshake, synced }))
    }

    /// The client's copy of the document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// From now on, also keeps apart what the server sends: what the client holds now
    /// (right after connecting, only the server's step 2) and every later update from the
    /// server, none of the client's own changes. Since the server relays only what it has
    /// stored, that is what the server has acknowledged as durable.
    pub fn observe(&mut self) -> Result<()> {
        let state = self
            .doc
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
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

    /// Sends a local change (the bytes of `encode_update_v1`) as a sync update; returns
    /// the size of the WebSocket message.
    pub async fn send_update(&mut self, update: Vec<u8>) -> Result<usize> {
        self.send(Message::Sync(SyncMessage::Update(update))).await
    }

    /// Sends many updates back to back, each in its own WebSocket message, without
    /// waiting for anything between them: the frames are written as the socket takes
    /// them (flushed every [`PIPELINE_FLUSH_EVERY`]), so the server sees a stream of
    /// separate updates as fast as one connection can carry them.
    pub async fn send_updates_pipelined(&mut self, updates: &[Vec<u8>]) -> Result<()> {
        for (i, update) in updates.iter().enumerate() {
            let bytes = self.encode(&Message::Sync(SyncMessage::Update(update.clone())));
            timeout(IO_TIMEOUT, self.ws.feed(WsMessage::Binary(bytes.into())))
                .await
                .context("sending timed out")?
                .context("sending")?;
            if (i + 1) % PIPELINE_FLUSH_EVERY == 0 {
                timeout(IO_TIMEOUT, self.ws.flush())
                    .await
                    .context("flushing timed out")?
                    .context("flushing")?;
            }
        }
        timeout(IO_TIMEOUT, self.ws.flush())
            .await
            .context("flushing timed out")?
            .context("flushing")
    }

    /// Sends one message in its own frame; returns the frame's size.
    async fn send(&mut self, message: Message) -> Result<usize> {
        let bytes = self.encode(&message);
        self.send_frame(bytes).await
    }

    /// One message as a frame in this connection's framing.
    fn encode(&self, message: &Message) -> Vec<u8> {
        match &self.framing {
            Framing::YWebsocket => message.encode_v1(),
            Framing::Hocuspocus { prefix } => {
                let encoded = message.encode_v1();
                let mut bytes = Vec::with_capacity(prefix.len() + encoded.len());
                bytes.extend_from_slice(prefix);
                bytes.extend_from_slice(&encoded);
                bytes
            }
        }
    }

    async fn send_frame(&mut self, bytes: Vec<u8>) -> Result<usize> {
        let len = bytes.len();
        timeout(IO_TIMEOUT, self.ws.send(WsMessage::Binary(bytes.into())))
            .await
            .context("sending timed out")?
            .context("sending")?;
        Ok(len)
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
    /// update), which the caller may then look for in the `Doc`.
    pub async fn handle(&mut self, frame: WsMessage) -> Result<bool> {
        let bytes = match frame {
            WsMessage::Binary(bytes) => bytes,
            WsMessage::Close(reason) => match reason {
                Some(frame) => bail!("the server closed with {}: {}", frame.code, frame.reason),
                None => bail!("the server closed the connection"),
            },
            // Pongs to the server's pings go out on the next read or write by themselves.
            _ => return Ok(false),
        };
        match self.framing {
            Framing::YWebsocket => {
                let mut content = false;
                let mut decoder = DecoderV1::from(bytes.as_ref());
                // A frame may pack several messages.
                for message in MessageReader::new(&mut decoder) {
                    let message = message.context("a frame from the server does not decode")?;
                    content |= self.on_message(message).await?;
                }
                Ok(content)
            }
            Framing::Hocuspocus { .. } => self.handle_hocuspocus(&bytes).await,
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
                self.send(Message::Sync(SyncMessage::SyncStep2(diff)))
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
            Message::Auth(Some(reason)) => bail!("permission denied: {reason}"),
            // Awareness, awareness queries and custom messages carry no content.
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

/// lib0's varuint: seven bits a byte, low first.
fn write_var(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// lib0's varString: the UTF-8 length as a varuint, then the bytes.
fn write_var_string(out: &mut Vec<u8>, s: &str) {
    write_var(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_strings_are_lib0s() {
        let mut out = Vec::new();
        write_var_string(&mut out, "dok");
        assert_eq!(out, [3, b'd', b'o', b'k']);
        let mut long = Vec::new();
        write_var(&mut long, 300);
        assert_eq!(long, [0xac, 0x02]);
    }

    #[test]
    fn hocuspocus_frames_prefix_the_document_name() {
        let Framing::Hocuspocus { prefix } = Framing::hocuspocus("bench-0") else {
            panic!("expected Hocuspocus framing")
        };
        let mut expected = vec![7];
        expected.extend_from_slice(b"bench-0");
        assert_eq!(prefix, expected);
    }
}
