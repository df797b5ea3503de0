//! The physical reference for a relay figure: a WebSocket round trip on loopback with no
//! server logic at all.
//!
//! A relayed update crosses loopback twice (writer → server → reader), and so does an
//! echo (client → echo server → client), so the echo's percentiles are the floor the
//! relay's can be read against. It is measured in the same run, on the same machine
//! and runtime, with the same message sizes at the same rate, so machine noise shows in
//! both. Both ends set TCP_NODELAY, as the relay's clients do.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::TcpListener;
use tokio::time::{MissedTickBehavior, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;

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
