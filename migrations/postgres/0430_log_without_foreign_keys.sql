-- The update log's two tables no longer check their document row per inserted row.
--
-- A group commit inserts up to 1,024 log rows, and PostgreSQL ran one foreign-key check
-- (a query of its own, with a row lock) for each: a third of its time in the B4 push
-- (docs/BENCHMARKS.md, session 13). The check guarded nothing the journal does not
-- already hold: every append first updates the document's row in the same transaction
-- (`head_seq`), which fails for a missing document and locks the row against a
-- concurrent delete until the append commits. The purge, the only place a document is
-- deleted, now deletes its log rows itself, after the document's row.
--
-- SQLite keeps its constraints: in-process, its check is one index probe.
ALTER TABLE document_updates DROP CONSTRAINT document_updates_doc_id_fkey;
ALTER TABLE document_deletions DROP CONSTRAINT document_deletions_doc_id_fkey;
