//! Real-time sync: the y-websocket protocol, one room per open document.
//!
//! A connection task parses frames (so decoding runs in parallel, per socket) and hands
//! typed messages to its room. The room task owns the document's `Doc` and presence and
//! is the only code that touches them, so no lock is ever held across an `.await`. Each
//! socket has one writer task that owns its sink and drains a bounded outbox; a client
//! too slow to keep its outbox from filling up is disconnected (it re-syncs when it comes
//! back) rather than silently skipped, which would leave it diverged for good.

pub mod authority;
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
pub mod room;
pub mod update_log;

pub use close::CloseReason;
pub use registry::RoomRegistry;

/// Identifies one WebSocket connection within this process.
pub type ConnId = u64;
