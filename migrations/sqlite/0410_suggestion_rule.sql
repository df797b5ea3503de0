-- The phases in which the owners require changes to be suggested (issue 16): while the
-- round is in one of them, an editor's direct updates are not stored and only owners
-- edit the text directly. A comma-separated list of phase words in the order beredning,
-- remiss, avslutad; empty means never. The other database's migration of the same
-- number has the same shape.
ALTER TABLE remiss_rounds ADD COLUMN suggestion_phases TEXT NOT NULL DEFAULT ''
    CHECK (suggestion_phases IN ('', 'beredning', 'remiss', 'avslutad', 'beredning,remiss',
        'beredning,avslutad', 'remiss,avslutad', 'beredning,remiss,avslutad'));

-- One decision at a time across nodes (docs/REMISS.md): an owner accepting a thread's
-- proposal first claims the thread for a lease (epoch ms) and names the Yjs client id the
-- edit will be written under. Another node's decision finds the claim and answers 409; a
-- claim whose node died expires, and the next decision first looks whether that client id
-- reached the document (`document_authors`), so an edit already stored is never applied
-- twice.
ALTER TABLE threads ADD COLUMN decision_claim_until BIGINT;
ALTER TABLE threads ADD COLUMN decision_client BIGINT;
