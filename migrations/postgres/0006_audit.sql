-- The audit trail: an append-only log per document of who did what, when. Each entry
-- carries the hash of the one before it, so a changed, removed or reordered row breaks
-- the chain from that entry on (GET /api/documents/{id}/audit/verify finds it).
CREATE TABLE audit_log (
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    actor_id   TEXT,
    actor_name TEXT,
    org_id     TEXT,
    -- Serialised JSON exactly as hashed.
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
