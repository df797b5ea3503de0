-- Remiss rounds: each document's round (diarienummer, phase, svarsdatum) and what each
-- invited organisation did and when. A document without a row here is in `beredning`
-- with no diarienummer and no svarsdatum.
-- Times are epoch milliseconds; the SQLite migration of the same number has the same shape.

CREATE TABLE remiss_rounds (
    doc_id       TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    diarienummer TEXT,
    phase        TEXT NOT NULL DEFAULT 'beredning' CHECK (phase IN ('beredning', 'remiss', 'avslutad')),
    -- The svarsdatum as a calendar date `YYYY-MM-DD` in Europe/Stockholm, inclusive.
    deadline     TEXT,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL
);

-- One row per organisation ever given a role on a document. The row outlives a removed
-- role, so an organisation invited again keeps when it was first invited and what it did;
-- the invitee list is the rows whose organisation has a role now.
CREATE TABLE remiss_invitees (
    doc_id           TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id           TEXT NOT NULL,
    invited_at       BIGINT NOT NULL,
    opened_at        BIGINT,
    first_comment_at BIGINT,
    done_at          BIGINT,
    declined_at      BIGINT,
    statement        TEXT,
    PRIMARY KEY (doc_id, org_id)
);

-- Organisations that already have a role: invited when their membership was granted,
-- commenting since their first comment.
INSERT INTO remiss_invitees (doc_id, org_id, invited_at)
SELECT m.doc_id, m.principal_id, m.granted_at
FROM document_members m JOIN documents d ON d.id = m.doc_id
WHERE m.principal_kind = 'org' AND m.principal_id <> d.owner_org;

UPDATE remiss_invitees SET first_comment_at = (
    SELECT MIN(c.created_at) FROM comments c JOIN threads t ON t.id = c.thread_id
    WHERE t.doc_id = remiss_invitees.doc_id AND c.org_id = remiss_invitees.org_id
);
