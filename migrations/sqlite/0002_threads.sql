-- Comment threads anchored to ranges of a document, and their comments.
-- Relational, not part of the CRDT: permissions are checked per request, and editing the
-- text can never alter or remove another organisation's comments.

CREATE TABLE threads (
    id                 TEXT PRIMARY KEY,
    doc_id             TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    -- Yjs relative positions (v1 encoding, as Y.encodeRelativePosition makes them).
    anchor_start       BLOB NOT NULL,
    anchor_end         BLOB NOT NULL,
    original_quote     TEXT NOT NULL,
    original_paragraph BIGINT NOT NULL,
    -- The document's state vector when the thread was opened: the version it comments on.
    doc_version        BLOB NOT NULL,
    author_id          TEXT NOT NULL,
    author_name        TEXT NOT NULL,
    org_id             TEXT NOT NULL,
    stance             TEXT CHECK (stance IN ('tillstyrker', 'avstyrker', 'andringsforslag', 'ingen_erinran')),
    proposal           TEXT,
    status             TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    outcome            TEXT CHECK (outcome IN ('beaktad', 'delvis_beaktad', 'ej_beaktad', 'noterad')),
    motivation         TEXT,
    resolved_by        TEXT,
    resolved_by_name   TEXT,
    resolved_at        BIGINT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX threads_by_doc ON threads (doc_id, created_at);

CREATE TABLE comments (
    id          TEXT PRIMARY KEY,
    thread_id   TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL,
    author_name TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted_at  BIGINT
);
CREATE INDEX comments_by_thread ON comments (thread_id, created_at);
