//! Real-time sync: the y-websocket protocol, one room per open document.
//!
//! A connection task parses frames (so decoding runs in parallel, per socket) and hands
//! typed messages to its room. The room task owns the document's `Doc` and presence and
//! is the only code that touches them, so no lock is ever held across an `.await`. Each
//! socket has one writer task that owns its sink and drains a bounded outbox; a client
//! too slow to keep its outbox from filling up is disconnected (it re-syncs when it comes
//! back) rather than silently skipped, which would leave it diverged for good.

pub mod authority;
pub mod authorship;
pub mod bulk;
pub mod close;
pub mod compaction;
pub mod connection;
pub mod crdt;
pub mod hooks;
pub mod live;
pub mod membership;
pub mod nesting;
pub mod presence;
pub mod protocol;
pub mod quarantine;
pub mod registry;
pub mod remote;
pub mod room;
pub mod update_log;

pub use close::CloseReason;
pub use registry::RoomRegistry;

crate::sub_state! {
    /// What a WebSocket connection (admission, limits, metrics) and the membership
    /// recheck need of the server's state; any state holding these handles provides it,
    /// so the sync core does not import the server's `AppState`.
    pub struct SyncContext {
        /// The settings the server started with (message sizes and rates).
        pub config: std::sync::Arc<crate::config::Config>,
        /// Storage: the access check and the membership recheck read it.
        pub db: crate::storage::Db,
        /// The keys a connection's token is checked with.
        pub tokens: std::sync::Arc<crate::auth::TokenKeys>,
        /// The open rooms.
        pub rooms: RoomRegistry,
        /// Connection counts and closes.
        pub metrics: std::sync::Arc<crate::metrics::Metrics>,
        /// Connections per address.
        pub limits: std::sync::Arc<crate::limits::Limits>,
        /// Cancelled when the server starts shutting down.
        pub shutdown: tokio_util::sync::CancellationToken,
    }
}

/// Identifies one WebSocket connection within this process.
pub type ConnId = u64;
