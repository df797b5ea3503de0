-- Named versions of a document, and webhooks with their queued deliveries.
-- Times are epoch milliseconds; the PostgreSQL migration of the same number has the same shape.

-- A version is the document's whole Yjs state (v1 update) when an owner saved it.
-- Versions are never changed: the trigger refuses any UPDATE. They go only with their
-- document (ON DELETE CASCADE).
CREATE TABLE versions (
    id              TEXT PRIMARY KEY,
    doc_id          TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    state           BLOB NOT NULL,
    -- Top-level blocks holding text when the version was saved.
    paragraphs      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_by_org  TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX versions_by_doc ON versions (doc_id, created_at);

CREATE TRIGGER versions_are_immutable BEFORE UPDATE ON versions
BEGIN
    SELECT RAISE(ABORT, 'versions are immutable');
END;

-- A receiver registered by an owner for some of a document's events.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    -- Comma-separated event names, e.g. 'thread.opened,comment.added'.
    events     TEXT NOT NULL,
    -- The HMAC key, shown to the owner once; needed here to sign every delivery.
    secret     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_by_doc ON webhooks (doc_id);

-- One event for one webhook: the exact body, sent until it is accepted or gives up.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    doc_id          TEXT NOT NULL,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- When the next attempt is due; a worker that takes the delivery moves it past its
    -- own timeout, so a node that dies mid-attempt leaves it to be retried.
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);

-- Every attempt at a delivery and how it ended.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    -- The receiver's HTTP status; NULL when no answer came (connection error, timeout).
    http_status BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
