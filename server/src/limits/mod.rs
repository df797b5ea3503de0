//! Limits that keep one client from taking the server from everyone else.
//!
//! Per WebSocket connection a message rate and a byte rate (token buckets in the reader,
//! charged per message inside a frame, not per frame: one 4.9 MB frame of 100,000
//! presence messages used to count as one) and a message size (tungstenite's own cap); per client address a number of open WebSocket
//! connections; per account and per address a number of failed logins a minute; per
//! request a body size (`DefaultBodyLimit`). Each is a setting with a safe default, and
//! each hit is counted in `/metrics` as `forankra_limit_hits_total{limit="…"}`.
//! The counts live in this node's memory: they protect the node, not the cluster.

pub mod body;
pub mod bucket;
pub mod client_ip;
pub mod connections;
pub mod login;

use std::sync::Arc;
use std::time::Duration;

pub use bucket::{Rate, TokenBucket};
pub use client_ip::ClientIp;
pub use connections::{IpConnections, IpSlot};
pub use login::{LoginLimit, LoginThrottle, Throttled};

/// Default sustained WebSocket messages a second per connection.
pub const DEFAULT_MESSAGE_RATE: u32 = 200;
/// Default burst of WebSocket messages per connection.
pub const DEFAULT_MESSAGE_BURST: u32 = 1_000;
/// Default sustained bytes a second per WebSocket connection (the burst is one message of
/// the size limit, so a large document's sync step 2 always fits).
pub const DEFAULT_BYTE_RATE: u32 = 1024 * 1024;
/// Default open WebSocket connections per client address.
pub const DEFAULT_CONNECTIONS_PER_IP: u32 = 200;
/// Default failed logins a minute per account.
pub const DEFAULT_LOGINS_PER_ACCOUNT: u32 = 5;
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
    /// Failed logins per window per account.
    pub logins_per_account: u32,
    /// Failed logins per window per client address.
    pub logins_per_ip: u32,
    /// The window the login limits count over (a minute).
    pub login_window: Duration,
    /// Take the client address from the last `X-Forwarded-For` hop.
    pub trust_proxy_headers: bool,
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
            logins_per_account: DEFAULT_LOGINS_PER_ACCOUNT,
            logins_per_ip: DEFAULT_LOGINS_PER_IP,
            login_window: DEFAULT_LOGIN_WINDOW,
            trust_proxy_headers: false,
        }
    }
}

/// The shared, counting side of the limits.
#[derive(Debug)]
pub struct Limits {
    pub connections: Arc<IpConnections>,
    pub logins: LoginThrottle,
}

impl Limits {
    /// Empty counters for these settings.
    pub fn new(settings: &LimitSettings) -> Self {
        Self {
            connections: IpConnections::new(settings.connections_per_ip),
            logins: LoginThrottle::new(
                settings.logins_per_account,
                settings.logins_per_ip,
                settings.login_window,
            ),
        }
    }
}
