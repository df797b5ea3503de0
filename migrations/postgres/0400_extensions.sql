-- Extensions of the svarsdatum per organisation (issue 17), and each user's e-mail
-- preferences. Times are epoch milliseconds; the PostgreSQL migration of the same number
-- has the same shape.

-- An invited organisation's request for a later svarsdatum, kept as received: an official
-- record, never edited (the trigger) and never deleted but with its document.
CREATE TABLE remiss_extension_requests (
    doc_id            TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq               BIGINT NOT NULL,
    org_id            TEXT NOT NULL,
    requested_date    TEXT NOT NULL,
    reason            TEXT NOT NULL,
    requested_at      BIGINT NOT NULL,
    requested_by      TEXT NOT NULL,
    requested_by_name TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
CREATE TRIGGER remiss_extension_requests_append_only BEFORE UPDATE ON remiss_extension_requests
FOR EACH ROW EXECUTE FUNCTION forankra_refuse_update();

-- The owners' decisions: a grant (with the date they chose) or a refusal (with a reason),
-- on a request (`request_seq`) or, for a grant, without one. The latest grant of an
-- organisation is its svarsdatum when later than the round's.
CREATE TABLE remiss_extension_decisions (
    doc_id          TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    org_id          TEXT NOT NULL,
    request_seq     BIGINT,
    granted         BIGINT NOT NULL CHECK (granted IN (0, 1)),
    granted_date    TEXT,
    reason          TEXT,
    decided_at      BIGINT NOT NULL,
    decided_by      TEXT NOT NULL,
    decided_by_name TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq),
    CHECK ((granted = 1) = (granted_date IS NOT NULL))
);
CREATE UNIQUE INDEX remiss_extension_decisions_once ON remiss_extension_decisions (doc_id, request_seq);
CREATE INDEX remiss_extension_decisions_by_org ON remiss_extension_decisions (doc_id, org_id, seq);
CREATE TRIGGER remiss_extension_decisions_append_only BEFORE UPDATE ON remiss_extension_decisions
FOR EACH ROW EXECUTE FUNCTION forankra_refuse_update();

-- How a user wants e-mail: at once or collected in one daily digest, and in which
-- language. No row: at once, in Swedish.
CREATE TABLE user_preferences (
    user_id      TEXT PRIMARY KEY,
    language     TEXT NOT NULL DEFAULT 'sv' CHECK (language IN ('sv', 'en')),
    email_digest TEXT NOT NULL DEFAULT 'immediate' CHECK (email_digest IN ('immediate', 'daily')),
    updated_at   BIGINT NOT NULL
);
