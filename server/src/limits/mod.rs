//! Limits that keep one client from taking the server from everyone else.
//!
//! Per WebSocket connection a message rate and a byte rate (token buckets in the reader,
//! charged per message inside a frame, not per frame: one 4.9 MB frame of 100,000
//! presence messages used to count as one) and a message size (tungstenite's own cap);
//! per client address a number of open WebSocket and HTTP connections; per account and
//! address a growing delay after failed logins, and per address a number of failed
//! logins a minute; per
//! request a body size (`DefaultBodyLimit`). Each is a setting with a safe default, and
//! each hit is counted in `/metrics` as `forankra_limit_hits_total{limit="…"}`.
//! The counts live in this node's memory: they protect the node, not the cluster.

pub mod body;
pub mod bucket;
pub mod client_ip;
pub mod connections;
pub mod login;
pub mod quota;

use std::sync::Arc;
use std::time::Duration;

pub use bucket::{Rate, TokenBucket};
pub use client_ip::ClientIp;
pub use connections::{IpConnections, IpSlot};
pub use login::{LoginLimit, LoginPolicy, LoginThrottle, Throttled};
pub use quota::{Creation, Quota, QuotaSettings};

/// Default sustained WebSocket messages a second per connection.
pub const DEFAULT_MESSAGE_RATE: u32 = 200;
/// Default burst of WebSocket messages per connection.
pub const DEFAULT_MESSAGE_BURST: u32 = 1_000;
/// Default sustained bytes a second per WebSocket connection (the burst is one message of
/// the size limit, so a large document's sync step 2 always fits).
pub const DEFAULT_BYTE_RATE: u32 = 1024 * 1024;
/// Default open WebSocket connections per client address.
pub const DEFAULT_CONNECTIONS_PER_IP: u32 = 200;
/// Default open connections per client address that are not WebSockets.
pub const DEFAULT_HTTP_CONNECTIONS_PER_IP: u32 = 512;
/// Default time a request head may take to arrive; also the keep-alive idle timeout.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(15);
/// Default time a request body may take to arrive, counted from its head.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default failed logins on one account from one address before a delay.
pub const DEFAULT_LOGINS_PER_ACCOUNT: u32 = 5;
/// Default first delay after those failures; it doubles with each further one.
pub const DEFAULT_LOGIN_DELAY: Duration = Duration::from_secs(1);
/// Default failed logins a minute per client address.
pub const DEFAULT_LOGINS_PER_IP: u32 = 20;
/// Default window the login limits count over.
pub const DEFAULT_LOGIN_WINDOW: Duration = Duration::from_secs(60);

/// The limit settings (flags and environment in `cli`).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitSettings {
    /// WebSocket messages per connection: sustained rate and burst.
    pub message_rate: Rate,
    /// Bytes per second a WebSocket connection may keep sending; its burst is the
    /// message size limit.
    pub byte_rate: u32,
    /// Open WebSocket connections per client address.
    pub connections_per_ip: u32,
    /// Open connections per client address that are not WebSockets (`serve`).
    pub http_connections_per_ip: u32,
    /// Open connections in all, at most (0: what the open-files limit allows).
    pub max_connections: usize,
    /// A request head must arrive whole within this.
    pub header_read_timeout: Duration,
    /// A request body must arrive whole within this, counted from its head.
    pub body_read_timeout: Duration,
    /// Failed logins on one account from one address before the delay starts.
    pub logins_per_account: u32,
    /// The first delay after those; doubled after each further failure (at most 15 min).
    pub login_delay: Duration,
    /// Failed logins per window per client address.
    pub logins_per_ip: u32,
    /// The window the address limit counts over, and how long a pair's failures are
    /// remembered once its delay has passed.
    pub login_window: Duration,
    /// Most (account, address) pairs and most addresses the login throttle remembers.
    pub login_max_tracked: usize,
    /// Take the client address from the last `X-Forwarded-For` hop.
    pub trust_proxy_headers: bool,
    /// Documents and threads one user may create (`quota`).
    pub quotas: QuotaSettings,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            message_rate: Rate {
                per_sec: f64::from(DEFAULT_MESSAGE_RATE),
                burst: DEFAULT_MESSAGE_BURST,
            },
            byte_rate: DEFAULT_BYTE_RATE,
            connections_per_ip: DEFAULT_CONNECTIONS_PER_IP,
            http_connections_per_ip: DEFAULT_HTTP_CONNECTIONS_PER_IP,
            max_connections: 0,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            logins_per_account: DEFAULT_LOGINS_PER_ACCOUNT,
            login_delay: DEFAULT_LOGIN_DELAY,
            logins_per_ip: DEFAULT_LOGINS_PER_IP,
            login_window: DEFAULT_LOGIN_WINDOW,
            login_max_tracked: login::DEFAULT_MAX_TRACKED,
            trust_proxy_headers: false,
            quotas: QuotaSettings::default(),
        }
    }
}

/// The shared, counting side of the limits.
#[derive(Debug)]
pub struct Limits {
    /// WebSocket connections per address.
    pub connections: Arc<IpConnections>,
    /// Other connections per address (`serve`).
    pub http_connections: Arc<IpConnections>,
    pub logins: LoginThrottle,
    /// Whether the last `X-Forwarded-For` hop counts as the client's address
    /// ([`ClientIp`]); kept here so the extractor needs only the limits.
    pub trust_proxy_headers: bool,
    /// How many documents and threads one user may create ([`quota::check`]).
    pub quotas: QuotaSettings,
}

impl Limits {
    /// Empty counters for these settings.
    pub fn new(settings: &LimitSettings) -> Self {
        Self {
            connections: IpConnections::new(settings.connections_per_ip),
            http_connections: IpConnections::new(settings.http_connections_per_ip),
            logins: LoginThrottle::new(LoginPolicy {
                free_failures: settings.logins_per_account,
                first_delay: settings.login_delay,
                per_address: settings.logins_per_ip,
                window: settings.login_window,
                max_tracked: settings.login_max_tracked,
            }),
            trust_proxy_headers: settings.trust_proxy_headers,
            quotas: settings.quotas,
        }
    }
}
