-- Cluster notices too large for PostgreSQL NOTIFY (8000 bytes) are passed through this
-- table: the notice names the row. SQLite runs one node and never uses it; the table
-- exists so both databases keep the same numbering and shape.
CREATE TABLE cluster_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
