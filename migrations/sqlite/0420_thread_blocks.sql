-- Which paragraph a thread was opened on, as the Yjs id ("client:clock") of the
-- top-level block holding its anchor's start (issue 17). A block keeps its id while its
-- text is edited and moved, so "threads on the same paragraph" is an equality, and an
-- organisation can be told of a new thread or reply on a paragraph it commented on
-- (`notifications::paragraph`) without the server loading the document inside the
-- notifying transaction. Threads opened before this migration have none and take no
-- part. The other database's migration of the same number has the same shape.
ALTER TABLE threads ADD COLUMN block_id TEXT;
CREATE INDEX threads_by_block ON threads (doc_id, block_id);
