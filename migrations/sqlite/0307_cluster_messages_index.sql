-- The index PostgreSQL's 0003 gave `cluster_messages` and SQLite's did not, found by the
-- test that compares the two schemas (tests/api/schema.rs). SQLite runs one node and
-- never fills the table, so the index costs nothing; it keeps the two shapes equal.
CREATE INDEX cluster_messages_by_age ON cluster_messages (created_at);
