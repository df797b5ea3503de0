-- Suggestions (issue 16): a thread made by typing in the text in suggesting mode is a
-- change proposal shown inline, not a margin comment. Its anchor may be collapsed (an
-- insertion) and its proposal empty (a deletion); the record is a thread like any other.
ALTER TABLE threads ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'suggestion'));
