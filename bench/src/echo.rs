//! The physical references for relay figures: a WebSocket round trip on loopback with no
//! server logic at all, and (the [`Hub`]) a fan-out relay with no CRDT and no storage.
//!
//! A relayed update crosses loopback twice (writer → server → reader), and so does an
//! echo (client → echo server → client), so the echo's percentiles are the floor the
//! relay's can be read against. It is measured in the same run, on the same machine
//! and runtime, with the same message sizes at the same rate, so machine noise shows in
//! both. Both ends set TCP_NODELAY, as the relay's clients do.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::client::IO_TIMEOUT;
use crate::report::{latency_histogram, record};

/// Sends one binary message of each size in `sizes`, `rate` per second, and records how
/// long each takes to come back, in microseconds.
pub async fn measure(sizes: &[usize], rate: u32) -> Result<Histogram<u64>> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding the echo server")?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let (tcp, _) = timeout(IO_TIMEOUT, listener.accept())
            .await
            .context("no echo client connected in time")??;
        tcp.set_nodelay(true)?;
        let mut ws = timeout(IO_TIMEOUT, tokio_tungstenite::accept_async(tcp))
            .await
            .context("the echo handshake timed out")??;
        // Ends when the client closes (tungstenite answers the close by itself); a read
        // error ends it too, and the client then reports the missing echo.
        while let Some(Ok(message)) = ws.next().await {
            if let WsMessage::Binary(bytes) = message {
                ws.send(WsMessage::Binary(bytes)).await?;
            }
        }
        Ok::<_, anyhow::Error>(())
    });

    let url = format!("ws://{addr}/");
    let (mut ws, _) = timeout(
        IO_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(url, None, true),
    )
    .await
    .context("connecting to the echo server timed out")??;
    let mut histogram = latency_histogram()?;
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for &size in sizes {
        ticker.tick().await;
        let payload = vec![0x5a_u8; size];
        let sent = Instant::now();
        timeout(IO_TIMEOUT, ws.send(WsMessage::Binary(payload.into())))
            .await
            .context("sending to the echo server timed out")??;
        let echoed = timeout(IO_TIMEOUT, ws.next())
            .await
            .context("no echo in time")?;
        let received = Instant::now();
        match echoed {
            Some(Ok(WsMessage::Binary(bytes))) if bytes.len() == size => {}
            other => bail!("unexpected reply from the echo server: {other:?}"),
        }
        record(&mut histogram, received - sent);
    }
    timeout(IO_TIMEOUT, ws.close(None))
        .await
        .context("closing the echo connection timed out")??;
    // Drain until the close handshake finishes, so the server task ends cleanly.
    let _ = timeout(IO_TIMEOUT, async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    timeout(IO_TIMEOUT, server)
        .await
        .context("the echo server did not stop in time")?
        .context("the echo server panicked")??;
    Ok(histogram)
}

/// Frames one hub connection's outbox holds before the connection counts as too slow.
const HUB_OUTBOX_FRAMES: usize = 4096;
/// The sync step 2 the hub answers every step 1 with: (0 sync, 1 step 2, an empty update).
const EMPTY_STEP2: [u8; 5] = [0, 1, 2, 0, 0];

/// Every connection of every document, by document name.
type HubRooms = Arc<Mutex<HashMap<String, Vec<(u64, mpsc::Sender<Bytes>)>>>>;

/// The floor for fan-out: a y-websocket relay with no CRDT and no storage, run inside
/// the harness on the same runtime as the clients.
///
/// It answers each sync step 1 with an empty step 2 (so clients count as synced) and
/// forwards every sync update frame, untouched, to every other connection of the same
/// document, as a server would after its own work. What the load generator measures
/// against it is therefore loopback plus the harness's own cost (its clients, their
/// decoding and applying, its timing), all sharing the machine's cores as they do
/// against a real server: a server's figure is only meaningful well above this one.
pub struct Hub {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Hub {
    /// Starts the hub on an ephemeral loopback port.
    pub async fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the hub")?;
        let addr = listener.local_addr()?;
        let rooms: HubRooms = Arc::default();
        let task = tokio::spawn(async move {
            let mut next_conn = 0_u64;
            // Ends when the hub is stopped (the task is aborted).
            while let Ok((tcp, _)) = listener.accept().await {
                next_conn += 1;
                tokio::spawn(hub_connection(tcp, next_conn, Arc::clone(&rooms)));
            }
        });
        Ok(Self { addr, task })
    }

    /// Where the hub listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Stops accepting; open connections end as their clients close.
    pub async fn stop(self) -> Result<()> {
        self.task.abort();
        Ok(())
    }
}

/// One hub connection: the URL path names the document.
// The handshake callback's error type is tungstenite's HTTP response, not ours.
#[allow(clippy::result_large_err)]
async fn hub_connection(tcp: tokio::net::TcpStream, conn: u64, rooms: HubRooms) {
    if tcp.set_nodelay(true).is_err() {
        return;
    }
    let mut path = String::new();
    let accepted = timeout(
        IO_TIMEOUT,
        tokio_tungstenite::accept_hdr_async(tcp, |request: &Request, response: Response| {
            path = request.uri().path().to_owned();
            Ok(response)
        }),
    )
    .await;
    let Ok(Ok(ws)) = accepted else { return };
    let (mut sink, mut stream) = ws.split();
    let (outbox, mut outbox_rx) = mpsc::channel::<Bytes>(HUB_OUTBOX_FRAMES);
    if let Ok(mut rooms) = rooms.lock() {
        rooms
            .entry(path.clone())
            .or_default()
            .push((conn, outbox.clone()));
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = outbox_rx.recv().await {
            if sink.send(WsMessage::Binary(frame)).await.is_err() {
                return;
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        let WsMessage::Binary(frame) = message else {
            continue;
        };
        match frame.get(..2) {
            // Sync step 1: nothing here to send but an empty step 2.
            Some([0, 0]) if outbox.try_send(Bytes::from_static(&EMPTY_STEP2)).is_err() => break,
            // An update: to every other connection of the document.
            Some([0, 2]) => {
                let peers = match rooms.lock() {
                    Ok(rooms) => rooms.get(&path).cloned().unwrap_or_default(),
                    Err(_) => break,
                };
                for (other, peer) in peers {
                    if other != conn {
                        // A full outbox only delays that peer's figures; never the others.
                        let _ = peer.try_send(frame.clone());
                    }
                }
            }
            _ => {}
        }
    }
    if let Ok(mut rooms) = rooms.lock()
        && let Some(peers) = rooms.get_mut(&path)
    {
        peers.retain(|(other, _)| *other != conn);
    }
    drop(outbox);
    writer.abort();
}
