-- Log entries that made the CRDT library panic when applied (server/src/sync/quarantine.rs).
-- They are moved out of document_updates, so the document loads without them, and kept
-- here for the operator: nothing a client sent is deleted.
CREATE TABLE quarantined_updates (
    doc_id         TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL,
    data           BLOB NOT NULL,
    created_at     BIGINT NOT NULL,
    quarantined_at BIGINT NOT NULL,
    reason         TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
