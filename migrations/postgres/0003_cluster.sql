-- Cluster notices too large for PostgreSQL NOTIFY (8000 bytes) are passed through this
-- table: the notice names the row, and rows older than a minute are deleted.
CREATE TABLE cluster_messages (
    id         BIGSERIAL PRIMARY KEY,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX cluster_messages_by_age ON cluster_messages (created_at);
