-- The record of a remiss is kept as received (issue 14, docs/REMISS.md "Comments and
-- statements"): a comment's every wording is a revision, a deleted comment keeps its text
-- (marked withdrawn, by whom and when), comments in a thread that was resolved are sealed,
-- and every statement an organisation submitted is kept. The SQLite migration of the
-- same number has the same shape.

ALTER TABLE comments ADD COLUMN deleted_by TEXT;
ALTER TABLE comments ADD COLUMN deleted_by_name TEXT;
-- When the thread was first resolved with this comment in it; from then on its text is
-- part of a decision and cannot change, even after the thread is reopened.
ALTER TABLE comments ADD COLUMN sealed_at BIGINT;

-- Every wording of a comment, oldest first; seq 1 is the text as received. Rows are only
-- ever added (the trigger refuses updates); comments.body is the latest.
CREATE TABLE comment_revisions (
    comment_id     TEXT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    seq            BIGINT NOT NULL,
    body           TEXT NOT NULL,
    edited_at      BIGINT NOT NULL,
    edited_by      TEXT NOT NULL,
    edited_by_name TEXT NOT NULL,
    PRIMARY KEY (comment_id, seq)
);

CREATE FUNCTION forankra_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER comment_revisions_append_only BEFORE UPDATE ON comment_revisions
FOR EACH ROW EXECUTE FUNCTION forankra_refuse_update();

-- Comments stored before this migration: their current text is the oldest wording left
-- (a deleted one's text was already blanked, so it has none).
INSERT INTO comment_revisions (comment_id, seq, body, edited_at, edited_by, edited_by_name)
SELECT id, 1, body, COALESCE(edited_at, created_at), author_id, author_name
FROM comments WHERE deleted_at IS NULL;

UPDATE comments SET sealed_at = (SELECT t.resolved_at FROM threads t WHERE t.id = comments.thread_id)
WHERE thread_id IN (SELECT id FROM threads WHERE status = 'resolved');

-- Every answer an invited organisation submitted, oldest first; remiss_invitees keeps the
-- latest for the status. submitted_by is NULL for answers stored before this migration.
CREATE TABLE remiss_statements (
    doc_id            TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id            TEXT NOT NULL,
    seq               BIGINT NOT NULL,
    answer            TEXT NOT NULL CHECK (answer IN ('done', 'declined')),
    statement         TEXT,
    submitted_at      BIGINT NOT NULL,
    submitted_by      TEXT,
    submitted_by_name TEXT,
    PRIMARY KEY (doc_id, org_id, seq)
);
CREATE TRIGGER remiss_statements_append_only BEFORE UPDATE ON remiss_statements
FOR EACH ROW EXECUTE FUNCTION forankra_refuse_update();

INSERT INTO remiss_statements (doc_id, org_id, seq, answer, statement, submitted_at)
SELECT doc_id, org_id, 1,
       CASE WHEN declined_at IS NOT NULL THEN 'declined' ELSE 'done' END,
       statement, COALESCE(declined_at, done_at)
FROM remiss_invitees WHERE done_at IS NOT NULL OR declined_at IS NOT NULL;
