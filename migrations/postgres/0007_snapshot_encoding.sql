-- Snapshots may be stored in Yjs's v2 update encoding, which packs a long-edited
-- document to less than half the v1 size. 1 = v1 (every snapshot written before this
-- migration), 2 = v2. Log entries stay v1: they are the clients' bytes, as received.
ALTER TABLE document_snapshots ADD COLUMN encoding SMALLINT NOT NULL DEFAULT 1;
