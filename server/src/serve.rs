//! Accepting HTTP connections: timeouts, a cap per client address, and headroom in
//! file descriptors.
//!
//! `axum::serve` sets no timer, so hyper never timed out a request head: issue 13 held
//! ~20,000 connections open by sending half a header each, without logging in, until
//! the server logged `Too many open files` and stopped answering anyone. This loop
//! serves each connection with hyper's HTTP/1 builder itself, with
//!
//! - a **header read timeout** (`--header-read-timeout`): a connection that has not sent
//!   a whole request head within it is closed, and so is a keep-alive connection idle
//!   that long between requests;
//! - a **body read timeout** (`--body-read-timeout`): a request body must arrive whole
//!   within it, counted from the head, however slowly it trickles ([`deadline_body`]);
//! - a **cap per client address** (`--max-http-connections-per-ip`) on connections that
//!   are not WebSockets: over it a connection gets `429` and is closed before hyper
//!   reads a byte. A WebSocket upgrade moves its connection from this count to the
//!   WebSocket one (`--max-connections-per-ip`, [`HttpSlot::release`]), so the two caps
//!   do not starve each other;
//! - **headroom in file descriptors**: at start the soft `RLIMIT_NOFILE` is raised to
//!   the hard limit, and connections (WebSockets included) are held under it minus a
//!   reserve ([`connection_budget`]; `--max-connections` may set fewer) for the
//!   database, files and webhooks; a connection over the budget is closed at once (a
//!   `503` is written if the socket takes it without waiting), so the process never
//!   runs out of descriptors and every socket it holds keeps working.
//!
//! The peer address is the TCP peer here, never `X-Forwarded-For`: behind a proxy the
//! proxy's own limits apply, and the cap is raised accordingly (docs/OPERATIONS.md).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use futures_util::StreamExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::limits::{IpConnections, IpSlot};
use crate::metrics::Metrics;

/// Descriptors kept back from connections: at least this many…
const MIN_FD_RESERVE: u64 = 128;
/// …or this share of the limit, whichever is more.
const FD_RESERVE_DIVISOR: u64 = 10;
/// How long a refused connection is given to read its answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// How long connections still reading a request may take to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Raises the soft limit on open files to the hard limit and returns how many
/// connections may be open at once: the limit less a reserve, or `at_most` if that is
/// fewer (0: no such setting).
pub fn connection_budget(at_most: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    let reserve = (limit / FD_RESERVE_DIVISOR).max(MIN_FD_RESERVE);
    let mut budget = usize::try_from(limit.saturating_sub(reserve).max(1)).unwrap_or(usize::MAX);
    if at_most > 0 {
        budget = budget.min(at_most);
    }
    tracing::info!(
        open_files = limit,
        connections = budget,
        "connection budget"
    );
    budget
}

/// The non-WebSocket place of one connection in its address's count, shared between the
/// connection and its requests so a WebSocket upgrade can give it back.
#[derive(Debug, Clone)]
pub struct HttpSlot(Arc<Mutex<Option<IpSlot>>>);

impl HttpSlot {
    /// The connection became a WebSocket, counted by the WebSocket cap from now on.
    pub fn release(&self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}

/// What the accept loop shares with every connection.
pub struct Acceptor {
    /// A request head must arrive whole within this; also the keep-alive idle timeout.
    pub header_read_timeout: Duration,
    /// A request body must arrive whole within this, counted from its head.
    pub body_read_timeout: Duration,
    /// Connections per client address that are not WebSockets.
    pub per_address: Arc<IpConnections>,
    /// Connections open at once, WebSockets included ([`connection_budget`]).
    pub budget: usize,
    pub metrics: Arc<Metrics>,
}

/// Serves `router` on `listener` until `stop` is cancelled, then lets requests in
/// flight finish (at most [`SHUTDOWN_GRACE`]).
pub async fn run(
    listener: TcpListener,
    router: Router,
    acceptor: Acceptor,
    stop: CancellationToken,
) {
    let acceptor = Arc::new(acceptor);
    let open = Arc::new(AtomicUsize::new(0));
    let connections = TaskTracker::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some((tcp, ticket)) = admit(&acceptor, &open, tcp, peer) else {
            continue;
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        connections.spawn(serve_connection(
            tcp,
            peer,
            ticket,
            router.clone(),
            Arc::clone(&acceptor),
            stop.clone(),
        ));
    }
    connections.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("requests still running at shutdown were cut off");
    }
}

/// A connection's places in the counts; dropped with the socket (after a WebSocket
/// upgrade, when the WebSocket closes).
struct Ticket {
    open: Arc<AtomicUsize>,
    http: HttpSlot,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Relaxed);
    }
}

/// Counts a new connection in, or answers and closes it when a limit is reached.
fn admit(
    acceptor: &Acceptor,
    open: &Arc<AtomicUsize>,
    tcp: TcpStream,
    peer: SocketAddr,
) -> Option<(TcpStream, Ticket)> {
    let hits = &acceptor.metrics.limit_hits;
    if open.fetch_add(1, Relaxed) >= acceptor.budget {
        open.fetch_sub(1, Relaxed);
        hits.open_connections.fetch_add(1, Relaxed);
        tracing::warn!(
            budget = acceptor.budget,
            "connection budget spent; refusing"
        );
        // No lingering here: the descriptors are what is short.
        let _ = tcp.try_write(&refusal(
            "503 Service Unavailable",
            "unavailable",
            "the server holds as many connections as it can",
        ));
        return None;
    }
    let ticket = Ticket {
        open: Arc::clone(open),
        http: HttpSlot(Arc::new(Mutex::new(None))),
    };
    match acceptor.per_address.acquire(peer.ip()) {
        Some(slot) => {
            *ticket.http.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(slot);
            Some((tcp, ticket))
        }
        None => {
            hits.http_connections_per_ip.fetch_add(1, Relaxed);
            tracing::info!(ip = %peer.ip(), "too many HTTP connections from one address");
            let response = refusal(
                "429 Too Many Requests",
                "too_many_requests",
                "too many open connections from this address",
            );
            tokio::spawn(refuse(tcp, response, ticket));
            None
        }
    }
}

/// A whole `connection: close` answer in our JSON error format.
fn refusal(status: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Answers and closes a refused connection so the client can read the answer: closing
/// a socket with unread request bytes would reset it and discard the answer, so the
/// request is read and dropped for at most [`REFUSAL_LINGER`]. The connection keeps
/// its place in the budget meanwhile.
async fn refuse(mut tcp: TcpStream, response: Vec<u8>, _ticket: Ticket) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        tcp.write_all(&response).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
}

/// Runs one connection: hyper with the header timeout, each request with the peer
/// address, its slot and a body deadline.
async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    ticket: Ticket,
    router: Router,
    acceptor: Arc<Acceptor>,
    stop: CancellationToken,
) {
    let slot = ticket.http.clone();
    let body_timeout = acceptor.body_read_timeout;
    let service = tower::service_fn(move |request: hyper::Request<Incoming>| {
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ConnectInfo(peer));
        parts.extensions.insert(slot.clone());
        let request = hyper::Request::from_parts(parts, deadline_body(body, body_timeout));
        router.clone().oneshot(request)
    });
    let io = TokioIo::new(CountedStream {
        tcp,
        _ticket: ticket,
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(acceptor.header_read_timeout);
    let connection = builder
        .serve_connection(io, TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, %peer, "connection ended with an error");
    }
}

/// The body, failing once `timeout` has passed since the head arrived. An empty body
/// (every GET, every WebSocket upgrade) is passed through untouched.
fn deadline_body(body: Incoming, timeout: Duration) -> Body {
    use hyper::body::Body as _;
    if body.is_end_stream() {
        return Body::new(body);
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let data = Body::new(body).into_data_stream();
    let limited = futures_util::stream::unfold(
        (data, Box::pin(tokio::time::sleep_until(deadline)), false),
        |(mut data, mut sleep, expired)| async move {
            if expired {
                return None;
            }
            tokio::select! {
                item = data.next() => item.map(|item| (item, (data, sleep, false))),
                () = &mut sleep => {
                    let error = axum::Error::new(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the request body did not arrive in time",
                    ));
                    Some((Err(error), (data, sleep, true)))
                }
            }
        },
    );
    Body::from_stream(limited)
}

/// A TCP stream that holds its connection's [`Ticket`] for as long as it lives, also
/// inside an upgraded WebSocket.
struct CountedStream {
    tcp: TcpStream,
    _ticket: Ticket,
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
