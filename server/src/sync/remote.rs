//! The open rooms as the cluster listener reaches them ([`RemoteSink`]).
//!
//! The listener (`cluster::listener`) receives other nodes' notices; what each one does
//! to a room is sync's business, so it is written here and handed to the listener when
//! the server starts. The cluster sits below the sync core and never imports it.

use futures_util::future::BoxFuture;

use crate::cluster::listener::RemoteSink;
use crate::ids::DocId;
use crate::storage::Db;
use crate::sync::RoomRegistry;
use crate::sync::close::{self, CloseReason};
use crate::sync::live::Reloaders;
use crate::sync::room::{RemoteNotice, RoomCommand};

/// This node's rooms, with what rebuilding other nodes' live events and memberships
/// needs: the database and the live events' registered reloads.
pub struct RemoteRooms {
    rooms: RoomRegistry,
    db: Db,
    reloaders: Reloaders,
}

impl RemoteRooms {
    /// The rooms of `rooms`; memberships are reread from `db`, live events rebuilt with
    /// `reloaders`.
    pub fn new(rooms: RoomRegistry, db: Db, reloaders: Reloaders) -> Self {
        Self {
            rooms,
            db,
            reloaders,
        }
    }

    /// Sends `notice` to the room of `doc` if it is open here. A room that is unloading
    /// drops it; it reads the log again when it next loads.
    async fn tell(&self, doc: &DocId, notice: RemoteNotice) {
        if let Some(room) = self.rooms.get(doc) {
            let _ = room.send(RoomCommand::Remote(notice)).await;
        }
    }
}

impl RemoteSink for RemoteRooms {
    fn open_docs(&self) -> Vec<DocId> {
        self.rooms.open_ids()
    }

    fn catch_up(&self, doc: DocId, head: i64) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.tell(&doc, RemoteNotice::CatchUp { head: Some(head) })
                .await;
        })
    }

    fn awareness(&self, doc: DocId, node: String, message: Vec<u8>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let message = message.into();
            self.tell(&doc, RemoteNotice::Awareness { node, message })
                .await;
        })
    }

    fn event(&self, doc: DocId, kind: u64, key: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.rooms
                .live()
                .deliver_remote(&self.reloaders, doc, kind, key)
                .await;
        })
    }

    fn members_changed(&self, doc: DocId) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.rooms.get(&doc).is_none() {
                return;
            }
            match self.db.members(&doc).await {
                Ok(members) => self.rooms.members_changed(&doc, members).await,
                Err(error) => tracing::warn!(%error, "reloading members failed"),
            }
        })
    }

    fn archived(&self, doc: DocId) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let reason = CloseReason::new(close::ARCHIVED, "the document is archived");
            self.rooms.close_document(&doc, reason).await;
        })
    }

    fn node_gone(&self, node: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for room in self.rooms.all_open() {
                let notice = RemoteNotice::NodeGone { node: node.clone() };
                let _ = room.send(RoomCommand::Remote(notice)).await;
            }
        })
    }
}
