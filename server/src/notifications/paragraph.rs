//! Who commented on a paragraph: the organisations a new thread or reply there concerns
//! (issue 17, "a new thread or reply on a paragraph my organisation commented on").
//!
//! A thread keeps the identity of the top-level block it was opened on (`threads.block_id`,
//! the block's Yjs id, `comments::anchor::block_key`), so "the same paragraph" is an
//! equality read in the notifying transaction, without loading the document. A block's id
//! stays while its text is edited or moved; a paragraph retyped as a heading, or the
//! second half of a split one, is a new block. Threads opened before the id was kept
//! (migration 0420) have none and concern nobody here.

use crate::ids::{DocId, OrgId, ThreadId};
use crate::on_tx;
use crate::storage::{StoreError, Tx};

/// The organisations whose users wrote a comment (an opening one or a reply, withdrawn or
/// not) in another thread of `doc` on `thread`'s paragraph, ordered by id. The thread's
/// own conversation is left to its followers (`comments::following`): a writer hears of
/// a reply as such, and whoever unfollowed it hears nothing of it, not even from here
/// (`raise` leaves out a paragraph notice's thread's unfollowers).
pub async fn commenting_orgs(
    tx: &mut Tx,
    doc: &DocId,
    thread: &ThreadId,
) -> Result<Vec<OrgId>, StoreError> {
    let orgs: Vec<String> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT DISTINCT c.org_id FROM comments c JOIN threads t ON t.id = c.thread_id \
             WHERE t.doc_id = $1 AND t.id <> $2 AND t.block_id IS NOT NULL \
             AND t.block_id = (SELECT b.block_id FROM threads b WHERE b.id = $2) ORDER BY c.org_id",
        )
        .bind(doc.as_str())
        .bind(thread.as_str())
        .fetch_all(&mut *conn)
        .await?
    });
    orgs.into_iter()
        .map(|org| {
            OrgId::parse(&org).map_err(|e| {
                StoreError::Corrupt(format!("a comment names a bad organisation: {e}"))
            })
        })
        .collect()
}
