-- The collaborative core: organisations, users, documents, membership and the update log.
-- Times are epoch milliseconds; the PostgreSQL migration of the same number has the same shape.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    username      TEXT UNIQUE,
    password_hash TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    owner_org  TEXT NOT NULL REFERENCES organisations (id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Sequence number of the newest update in the log. Appending bumps it inside the
    -- appending transaction, which also serialises appenders to one document.
    head_seq   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE document_members (
    doc_id         TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    principal_kind TEXT NOT NULL CHECK (principal_kind IN ('org', 'user')),
    principal_id   TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'commenter', 'viewer')),
    granted_by     TEXT NOT NULL,
    granted_at     BIGINT NOT NULL,
    PRIMARY KEY (doc_id, principal_kind, principal_id)
);
CREATE INDEX document_members_by_principal ON document_members (principal_kind, principal_id);

-- The append-only log of Yjs updates (v1 encoding), exactly as clients sent them.
CREATE TABLE document_updates (
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    data       BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

-- The compacted state: every update up to and including `seq`, merged and collected.
CREATE TABLE document_snapshots (
    doc_id     TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    data       BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
