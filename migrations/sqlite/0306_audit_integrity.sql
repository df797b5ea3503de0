-- The audit trail proves completeness, not only order (docs/REMISS.md, "The audit trail").
--
-- Entries written from now on carry `mac`: an HMAC-SHA256, with a key kept outside the
-- database (--audit-key-file / FORANKRA_AUDIT_KEY), over the document id, the number and
-- the hash. Entries from before have none; the server's first start with a key gives each
-- existing trail a head whose `legacy_until` names the last such entry.
ALTER TABLE audit_log ADD COLUMN mac TEXT;

-- One row per document: how many entries its trail has and the hash of the last, with a
-- MAC over both (and `legacy_until`), so removing entries from the end shows.
CREATE TABLE audit_heads (
    doc_id       TEXT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    hash         TEXT NOT NULL,
    -- Entries 1..=legacy_until were written before keys and carry no MAC.
    legacy_until BIGINT NOT NULL,
    mac          TEXT NOT NULL
);

-- DELETE /api/documents/{id} archives: the document leaves every list and the editor,
-- and its trail stays readable by its owners.
ALTER TABLE documents ADD COLUMN archived_at BIGINT;
ALTER TABLE documents ADD COLUMN archived_by TEXT;

-- What `forankra purge` leaves behind: who removed which document, when, why, the head
-- of its trail at that moment and whether the trail verified, with a MAC under the audit
-- key over all of it. No foreign key: it outlives the document.
CREATE TABLE purge_log (
    doc_id        TEXT NOT NULL,
    title         TEXT NOT NULL,
    owner_org     TEXT NOT NULL,
    purged_at     BIGINT NOT NULL,
    purged_by     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    audit_entries BIGINT NOT NULL,
    audit_hash    TEXT NOT NULL,
    -- 1 if GET …/audit/verify would have said valid; else the reason code.
    audit_valid   BIGINT NOT NULL,
    audit_reason  TEXT,
    mac           TEXT NOT NULL,
    PRIMARY KEY (doc_id, purged_at)
);
