-- Authorship (issue 16). Every Yjs client id that wrote into a document is bound to
-- the user and organisation that first used it there, in the transaction that stored
-- its first update; an update writing under a client id bound to someone else is
-- refused, so the binding is what says who wrote each character.
CREATE TABLE document_authors (
    doc_id    TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    client_id BIGINT NOT NULL,
    user_id   TEXT NOT NULL,
    org_id    TEXT NOT NULL,
    bound_at  BIGINT NOT NULL,
    PRIMARY KEY (doc_id, client_id)
);

-- Who deleted what: the delete set (Yjs v1 encoding) of each stored update that
-- deleted anything, with its author and time, keyed by the update's log sequence
-- number. Compaction deletes log rows, never these, so deletions stay attributed
-- after the deleted content itself is collected out of the snapshot.
CREATE TABLE document_deletions (
    doc_id     TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    user_id    TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    deleted_at BIGINT NOT NULL,
    delete_set BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
);
