//! Updates under a client id the room believes another user's, held for a second look.
//!
//! A room learns what other nodes stored from the log, a little after they stored it. A
//! client that moves from node A to node B within that lag passes A's structs on to B
//! in its sync step 2. If B's room has not read them yet, they look like new structs
//! written under another user's client id, and refusing them at once (4409) closed a
//! client that had forged nothing. So such an update is held, the room catches up from
//! the log, and only then is it checked again: structs the log holds are no claim, and
//! what is still written under someone else's id is refused. A forger costs the room
//! one read of the log before its socket closes.
//!
//! Later updates from the same connection wait behind a held one, so that connection's
//! updates are still stored in the order it sent them.

use crate::sync::ConnId;
use crate::sync::authority::Authority;
use crate::sync::authorship::Foreign;
use crate::sync::protocol::IncomingUpdate;

/// A client's update waiting to be checked (again).
pub(super) struct Held {
    pub(super) origin: ConnId,
    pub(super) incoming: IncomingUpdate,
    pub(super) author: Authority,
}

/// An update whose author check found a client id bound to another user.
pub(super) struct Doubt {
    pub(super) held: Held,
    pub(super) foreign: Foreign,
}

/// The held updates, in the order they will be checked again.
#[derive(Default)]
pub(super) struct SecondLook {
    held: Vec<Held>,
}

impl SecondLook {
    /// Whether updates of `conn` are held (its next ones must wait behind them).
    pub(super) fn holds(&self, conn: ConnId) -> bool {
        self.held.iter().any(|h| h.origin == conn)
    }

    /// Whether nothing is held.
    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Holds `held` behind what its connection has held already.
    pub(super) fn hold(&mut self, held: Held) {
        self.held.push(held);
    }

    /// Holds updates that were sent before anything their connection has held (a
    /// refused commit's update and those queued behind it), keeping their order.
    pub(super) fn hold_first(&mut self, earlier: Vec<Held>) {
        let Some(origin) = earlier.first().map(|h| h.origin) else {
            return;
        };
        let at = self
            .held
            .iter()
            .position(|h| h.origin == origin)
            .unwrap_or(self.held.len());
        self.held.splice(at..at, earlier);
    }

    /// Everything held, in order, for the second look.
    pub(super) fn take(&mut self) -> Vec<Held> {
        std::mem::take(&mut self.held)
    }
}
