-- PostgreSQL's migration 0430 drops the update log's foreign keys (a per-row check that
-- took a third of its time in a bulk append). SQLite keeps them: in-process, its check
-- is one index probe. Nothing to change here; the file keeps the two histories in step.
SELECT 1;
