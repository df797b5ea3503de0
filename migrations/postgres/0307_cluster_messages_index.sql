-- SQLite's 0307 adds the index this database has had since 0003 (`cluster_messages_by_age`),
-- so the two schemas match (tests/api/schema.rs). Nothing to do here; the migration exists
-- so both trees keep the same numbering.
CREATE INDEX IF NOT EXISTS cluster_messages_by_age ON cluster_messages (created_at);
