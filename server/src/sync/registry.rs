//! The map from document id to its open room.
//!
//! A room is inserted into the map before it loads, and the load happens inside the
//! room's own task, so joins that race on a cold document all queue on the same channel
//! and share one load (hocuspocus keeps a map of loading promises for the same reason;
//! y-sweet's check-then-load is the race this avoids). A room removes itself, under the
//! map's lock and only if the entry is still its own generation, before it unloads;
//! a join that reaches it after that gets its peer back and opens a fresh room.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use futures_util::TryFutureExt;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::task::TaskTracker;
use yrs::Doc;

use crate::auth::Member;
use crate::ids::DocId;
use crate::sync::ConnId;
use crate::sync::authorship::Author;
use crate::sync::close::CloseReason;
use crate::sync::hooks::MessageKind;
use crate::sync::live::Live;
use crate::sync::room::{self, EditError, JoinError, Peer, RoomCommand, RoomContext};

/// Why a room could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    #[error("the document could not be opened: {0}")]
    Unavailable(String),
    #[error("the room closed")]
    Closed,
}

/// A sender to one room's task.
#[derive(Clone)]
pub struct RoomHandle {
    lanes: room::Lanes,
}

impl RoomHandle {
    /// Sends a command on its lane (see [`room::Lanes`]), waiting while that lane is
    /// full.
    ///
    /// Not an `async fn` nor an `async` block, which would keep the lane's send future
    /// twice (as the captured value and as the awaited one) in every connection's task:
    /// 904 bytes instead of 448 (see [`room::Lanes::send`]). A combinator holds it once.
    pub fn send(&self, command: RoomCommand) -> impl Future<Output = Result<(), RoomError>> + '_ {
        self.lanes.send(command).map_err(|_| RoomError::Closed)
    }
}

struct Entry {
    generation: u64,
    handle: RoomHandle,
}

struct Inner {
    rooms: Mutex<HashMap<DocId, Entry>>,
    /// Room tasks still running (loading, serving or storing their last work).
    running: watch::Sender<usize>,
    next_generation: AtomicU64,
    next_conn: AtomicU64,
    ctx: RoomContext,
    tracker: TaskTracker,
}

/// Every open room of this process; cheap to clone.
#[derive(Clone)]
pub struct RoomRegistry {
    inner: Arc<Inner>,
}

impl RoomRegistry {
    /// An empty registry whose rooms run on `tracker`, so shutdown can wait for them.
    pub fn new(ctx: RoomContext, tracker: TaskTracker) -> Self {
        Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                running: watch::Sender::new(0),
                next_generation: AtomicU64::new(1),
                next_conn: AtomicU64::new(1),
                ctx,
                tracker,
            }),
        }
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<DocId, Entry>> {
        // The map holds no invariant a panic could break halfway: recover from poisoning.
        self.inner
            .rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The room of `id`, started (and loading) if it was not open.
    pub fn open(&self, id: &DocId) -> RoomHandle {
        let mut rooms = self.rooms();
        if let Some(entry) = rooms.get(id) {
            return entry.handle.clone();
        }
        let (lanes, inbox) = room::inbox();
        let handle = RoomHandle { lanes };
        let generation = self.inner.next_generation.fetch_add(1, Relaxed);
        rooms.insert(
            id.clone(),
            Entry {
                generation,
                handle: handle.clone(),
            },
        );
        self.inner.running.send_modify(|n| *n += 1);
        drop(rooms);
        let room = room::run(
            id.clone(),
            generation,
            self.clone(),
            self.inner.ctx.clone(),
            inbox,
        );
        let registry = self.clone();
        self.inner.tracker.spawn(async move {
            room.await;
            registry.inner.running.send_modify(|n| *n -= 1);
        });
        handle
    }

    /// The room of `id` if it is open; never loads.
    pub fn get(&self, id: &DocId) -> Option<RoomHandle> {
        self.rooms().get(id).map(|e| e.handle.clone())
    }

    /// Removes the room's entry if it still belongs to that generation of the room.
    pub(crate) fn unregister(&self, id: &DocId, generation: u64) {
        let mut rooms = self.rooms();
        if rooms.get(id).is_some_and(|e| e.generation == generation) {
            rooms.remove(id);
        }
    }

    /// Sends `command` to the document's room, opening it if needed. A room that closed
    /// its channel between `open()` and the send hands the command back and a fresh
    /// room is opened; an unloading room still answers what it had queued.
    async fn deliver(&self, id: &DocId, mut command: RoomCommand) -> Result<RoomHandle, RoomError> {
        for _ in 0..3 {
            let handle = self.open(id);
            match handle.lanes.send(command).await {
                Ok(()) => return Ok(handle),
                Err(mpsc::error::SendError(returned)) => command = returned,
            }
        }
        Err(RoomError::Closed)
    }

    /// Adds a connection to the document's room, opening it if needed.
    pub async fn join(
        &self,
        id: &DocId,
        mut peer: Peer,
    ) -> Result<(RoomHandle, ConnId), RoomError> {
        let conn = self.inner.next_conn.fetch_add(1, Relaxed);
        // A room found unloading hands the peer back; a fresh one is opened. Twice in a
        // row would need two full unloads during one join.
        for _ in 0..3 {
            let (reply, joined) = oneshot::channel();
            let handle = self
                .deliver(id, RoomCommand::Join { conn, peer, reply })
                .await?;
            match joined.await {
                Ok(Ok(())) => return Ok((handle, conn)),
                Ok(Err(JoinError::Closed(returned))) => peer = returned,
                Ok(Err(JoinError::Failed(why))) => return Err(RoomError::Unavailable(why)),
                Err(_) => return Err(RoomError::Closed),
            }
        }
        Err(RoomError::Unavailable("the room kept closing".into()))
    }

    /// Runs `read` against the document's current state, loading the room if needed.
    pub async fn read<R: Send + 'static>(
        &self,
        id: &DocId,
        read: impl FnOnce(&Doc) -> R + Send + 'static,
    ) -> Result<R, RoomError> {
        let (reply, result) = oneshot::channel();
        let command = RoomCommand::Read(Box::new(move |doc: &Doc| {
            let _ = reply.send(read(doc));
        }));
        self.deliver(id, command).await?;
        result
            .await
            .map_err(|_| RoomError::Unavailable("the document could not be read".into()))
    }

    /// Makes a server-side change on `author`'s behalf (the change is attributed to
    /// them): `make` computes an update and a value for the caller
    /// from the current document, or declines with a reason of its own. Resolves once
    /// the update is stored and relayed to every client. The outer error is the room's
    /// (why nothing was made, typed so the caller can answer the right status), the
    /// inner one is the editor's reason, handed back as it was given.
    pub async fn edit<T, R>(
        &self,
        id: &DocId,
        author: Author,
        make: impl FnOnce(&Doc) -> Result<(Vec<u8>, T), R> + Send + 'static,
    ) -> Result<Result<T, R>, EditError>
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        let (made, decided) = oneshot::channel();
        let make = move |doc: &Doc| {
            let (update, answer) = match make(doc) {
                Ok((update, value)) => (Some(update), Ok(value)),
                Err(refused) => (None, Err(refused)),
            };
            let _ = made.send(answer);
            update
        };
        let (done, stored) = oneshot::channel();
        let command = RoomCommand::Edit {
            make: Box::new(make),
            author,
            done,
        };
        self.deliver(id, command).await?;
        let answer = stored
            .await
            .unwrap_or(Err(EditError::Room(RoomError::Closed)));
        match (answer, decided.await) {
            (Ok(()), Ok(Ok(value))) => Ok(Ok(value)),
            (Err(EditError::Declined), Ok(Err(refused))) => Ok(Err(refused)),
            // Stored, or declined, without the editor having said so: it cannot be, as
            // the room sends its answer only after running `make`.
            (Ok(()) | Err(EditError::Declined), _) => Err(EditError::Room(RoomError::Closed)),
            (Err(error), _) => Err(error),
        }
    }

    /// Tells an open room that the membership changed; a closed room needs no telling.
    pub async fn members_changed(&self, id: &DocId, members: Vec<Member>) {
        if let Some(handle) = self.get(id) {
            let _ = handle.send(RoomCommand::Members(members)).await;
        }
    }

    /// Tells an open room whether direct edits are for owners only now (changes must
    /// be suggested); a closed room has nobody to tell, and its next connections read
    /// the rule when they are admitted.
    pub async fn set_owners_only(&self, id: &DocId, owners_only: bool) {
        if let Some(handle) = self.get(id) {
            let _ = handle.send(RoomCommand::OwnersOnly(owners_only)).await;
        }
    }

    /// Sends a live event to the subscribed connections of an open room; a closed room
    /// has nobody to tell. Products publish through [`Live`], which also tells the
    /// other nodes.
    pub(crate) async fn send_event(&self, id: &DocId, kind: MessageKind, frame: Bytes) {
        if let Some(handle) = self.get(id) {
            let _ = handle.send(RoomCommand::Event { kind, frame }).await;
        }
    }

    /// The live-event façade over these rooms and their cluster.
    pub fn live(&self) -> Live {
        Live::new(self.clone(), self.inner.ctx.cluster.clone())
    }

    /// Closes every connection to a deleted document.
    pub async fn close_document(&self, id: &DocId, reason: CloseReason) {
        if let Some(handle) = self.get(id) {
            let _ = handle.send(RoomCommand::Close(reason)).await;
        }
    }

    /// Resolves once no room task runs: every document unloaded, stored and compacted.
    pub async fn until_all_closed(&self) {
        let mut running = self.inner.running.subscribe();
        let _ = running.wait_for(|&n| n == 0).await;
    }

    /// Every open room.
    pub fn all_open(&self) -> Vec<RoomHandle> {
        self.rooms().values().map(|e| e.handle.clone()).collect()
    }

    /// The ids of every open document.
    pub fn open_ids(&self) -> Vec<DocId> {
        self.rooms().keys().cloned().collect()
    }

    /// How many rooms are open.
    pub fn open_rooms(&self) -> usize {
        self.rooms().len()
    }
}
