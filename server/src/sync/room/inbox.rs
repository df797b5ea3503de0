//! The two lanes a room's commands arrive in.
//!
//! A client that joins waits on two commands for its first sync: its join and its sync
//! step 1. Both only read the `Doc`, so they may overtake what was queued before them,
//! and a client joining right after a large push must not wait behind all of it (issue
//! 20: 261 ms to 2.8 s measured before this lane, against a 50 ms target).

use std::future::Future;

use futures_util::future::Either;
use tokio::sync::mpsc;

use crate::sync::protocol::Inbound;

use super::RoomCommand;

/// Commands a room's channel can hold before senders wait (1 under test, to surface
/// interleavings).
pub const COMMAND_CAPACITY: usize = if cfg!(test) { 1 } else { 1024 };

/// Commands the priority lane (joins, sync requests) can hold before senders wait.
const PRIORITY_CAPACITY: usize = if cfg!(test) { 1 } else { 256 };

/// Priority commands served in a row before a waiting command of the other lane goes
/// first, so a flood of sync requests cannot starve the updates.
const PRIORITY_STREAK: u32 = 8;

/// The senders of a room's two lanes. Joins and sync step 1 requests only read the
/// `Doc`, and a client waits on them for its first sync: they go in a lane of their own
/// that the room serves before the updates queued ahead of them (issue 20: a client
/// joining right after a large push waited behind all of it). Everything else keeps
/// one lane, in the order it was sent: a `Leave` must not overtake its connection's
/// updates, which would then be dropped.
#[derive(Clone)]
pub struct Lanes {
    normal: mpsc::Sender<RoomCommand>,
    /// Boxed: a channel allocates its first block of slots up front, and a room that
    /// only ever sees a few joins should not pay 32 whole commands for it.
    priority: mpsc::Sender<Box<RoomCommand>>,
}

impl Lanes {
    /// Sends `command` on its lane, waiting while that lane is full; hands it back if
    /// the room has closed its inbox.
    ///
    /// Not an `async fn`: its future is part of every connection's task, and a wrapper
    /// holding its own copy of the command beside the lane's made each connection's task
    /// hundreds of bytes larger (docs/BENCHMARKS.md, issue 19's memory figure). The
    /// priority send, twice in a connection's life, is boxed so the common one stays
    /// the only one inline.
    pub fn send(
        &self,
        command: RoomCommand,
    ) -> impl Future<Output = Result<(), mpsc::error::SendError<RoomCommand>>> + '_ {
        if command.reads_only() {
            let priority = &self.priority;
            Either::Left(Box::pin(async move {
                priority
                    .send(Box::new(command))
                    .await
                    .map_err(|mpsc::error::SendError(boxed)| mpsc::error::SendError(*boxed))
            }))
        } else {
            Either::Right(self.normal.send(command))
        }
    }
}

/// The receiving end of a room's lanes.
pub struct Inbox {
    normal: mpsc::Receiver<RoomCommand>,
    priority: mpsc::Receiver<Box<RoomCommand>>,
    /// Priority commands served in a row while the other lane waited.
    streak: u32,
}

/// A new room's lanes and inbox.
pub fn inbox() -> (Lanes, Inbox) {
    let (normal, normal_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (priority, priority_rx) = mpsc::channel(PRIORITY_CAPACITY);
    let lanes = Lanes { normal, priority };
    let inbox = Inbox {
        normal: normal_rx,
        priority: priority_rx,
        streak: 0,
    };
    (lanes, inbox)
}

impl Inbox {
    /// The next command, the priority lane's first (see [`Lanes`]); `None` once both
    /// lanes are closed and empty. Cancel-safe, as each lane's `recv` is.
    pub(super) async fn recv(&mut self) -> Option<RoomCommand> {
        let Self {
            normal,
            priority,
            streak,
        } = self;
        if *streak < PRIORITY_STREAK {
            tokio::select! {
                biased;
                Some(command) = priority.recv() => {
                    *streak += 1;
                    Some(*command)
                }
                Some(command) = normal.recv() => {
                    *streak = 0;
                    Some(command)
                }
                else => None,
            }
        } else {
            tokio::select! {
                biased;
                Some(command) = normal.recv() => {
                    *streak = 0;
                    Some(command)
                }
                Some(command) = priority.recv() => Some(*command),
                else => None,
            }
        }
    }

    /// Takes no more commands; those already sent can still be received.
    pub(super) fn close(&mut self) {
        self.priority.close();
        self.normal.close();
    }

    /// A command already sent, without waiting.
    pub(super) fn try_recv(&mut self) -> Option<RoomCommand> {
        self.priority
            .try_recv()
            .map(|command| *command)
            .or_else(|_| self.normal.try_recv())
            .ok()
    }
}

impl RoomCommand {
    /// Whether the command only reads the `Doc` and a client waits on it for its first
    /// sync, so it may overtake the updates queued ahead of it; or it narrows who may
    /// edit ([`RoomCommand::OwnersOnly`]), which must reach the updates queued ahead of it
    /// before they are stored (it stays behind the joins before it, which it then sets).
    pub(super) fn reads_only(&self) -> bool {
        matches!(
            self,
            Self::Join { .. }
                | Self::OwnersOnly(_)
                | Self::Message {
                    message: Inbound::SyncStep1(_),
                    ..
                }
        )
    }
}
