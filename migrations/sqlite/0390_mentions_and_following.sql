-- @mentions and following (issue 17). Mentions are stored structurally, never parsed
-- back from a comment's text: the client sends who it mentioned beside the body, the
-- server checks each is a member of the document and keeps them here. Times are epoch
-- milliseconds; the PostgreSQL migration of the same number has the same shape.

-- Everyone a comment has mentioned, in any of its wordings. `current` 1: the latest
-- wording mentions them (shown with the comment); 0: an edit took the mention out. A
-- row is never deleted, so a mention put back by a later edit is not notified twice.
CREATE TABLE comment_mentions (
    comment_id     TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'org')),
    principal_id   TEXT NOT NULL,
    current        BIGINT NOT NULL DEFAULT 1 CHECK (current IN (0, 1)),
    added_at       BIGINT NOT NULL,
    PRIMARY KEY (comment_id, principal_kind, principal_id)
);

-- A user's choice to follow (1) or not follow (0) a thread, or a whole document
-- (`thread_id` ''). No row for a thread: the user follows it if they wrote in it.
CREATE TABLE follows (
    user_id    TEXT NOT NULL,
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    thread_id  TEXT NOT NULL DEFAULT '',
    following  BIGINT NOT NULL CHECK (following IN (0, 1)),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, doc_id, thread_id)
);
CREATE INDEX follows_by_thread ON follows (doc_id, thread_id);
