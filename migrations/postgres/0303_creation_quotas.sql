-- Per-user creation quotas (limits/quota.rs) count a user's documents and threads, in
-- all and in the last hour.
CREATE INDEX documents_by_creator ON documents (created_by, created_at);
CREATE INDEX threads_by_author ON threads (author_id, created_at);
