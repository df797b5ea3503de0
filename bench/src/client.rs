//! A y-websocket client over a real WebSocket, holding a yrs `Doc`.
//!
//! It speaks the protocol as the npm `y-websocket` provider does: on open it sends sync
//! step 1, answers the server's step 1 with a step 2, counts as synced on the server's
//! step 2, and sends each local change as a sync update (0, 2, update).
//!
//! Reading is split in two so a caller can `select!` on the socket next to a timer:
//! [`YClient::next_frame`] is only the stream's `next()`, which is cancel-safe, while
//! [`YClient::handle`] applies the frame and may write a reply, so it must run to the end.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::{Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, Transact, Update};

/// Longest a connect, a handshake, one send or a close may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A `Doc` that counts text offsets in UTF-16 units, as Yjs and ProseMirror do (see
/// TECHNOTES: a default yrs `Doc` counts UTF-8 bytes and misplaces every "å ä ö").
pub fn new_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// One connection to a document's room.
pub struct YClient {
    ws: WsStream,
    doc: Doc,
    synced: bool,
}

impl YClient {
    /// Connects and completes the handshake: our step 1 answered by the server's step 2.
    pub async fn connect(url: &str) -> Result<Self> {
        // TCP_NODELAY, as browsers set it: Nagle's algorithm would hold small frames back.
        let (ws, _) = timeout(
            IO_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(url, None, true),
        )
        .await
        .context("connecting timed out")?
        .context("connecting")?;
        let mut client = Self {
            ws,
            doc: new_doc(),
            synced: false,
        };
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
        Ok(client)
    }

    /// The client's copy of the document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// Sends a local change (the bytes of `encode_update_v1`) as a sync update; returns
    /// the size of the WebSocket message.
    pub async fn send_update(&mut self, update: Vec<u8>) -> Result<usize> {
        self.send(Message::Sync(SyncMessage::Update(update))).await
    }

    /// Sends one message in its own frame; returns the frame's size.
    async fn send(&mut self, message: Message) -> Result<usize> {
        let bytes = message.encode_v1();
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
        let mut content = false;
        let mut decoder = DecoderV1::from(bytes.as_ref());
        // A frame may pack several messages.
        for message in MessageReader::new(&mut decoder) {
            match message.context("a frame from the server does not decode")? {
                Message::Sync(SyncMessage::SyncStep1(sv)) => {
                    let diff = self.doc.transact().encode_diff_v1(&sv);
                    self.send(Message::Sync(SyncMessage::SyncStep2(diff)))
                        .await?;
                }
                Message::Sync(SyncMessage::SyncStep2(update)) => {
                    self.apply(&update)?;
                    self.synced = true;
                    content = true;
                }
                Message::Sync(SyncMessage::Update(update)) => {
                    self.apply(&update)?;
                    content = true;
                }
                Message::Auth(Some(reason)) => bail!("permission denied: {reason}"),
                // Awareness, awareness queries and custom messages carry no content.
                _ => {}
            }
        }
        Ok(content)
    }

    fn apply(&mut self, update: &[u8]) -> Result<()> {
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
