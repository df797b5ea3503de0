-- Administration and sign-in (issue 15). A user gets an e-mail address (from the
-- identity provider or an administrator: the notifications need it), a server-wide
-- administrator flag, a time it was disabled (NULL: active), the time of its last
-- sign-in, and the time its earlier sign-ins were ended (tokens issued before it are
-- refused: disabling, a password reset). Times are epoch milliseconds, flags 0/1, as
-- everywhere else, so one SQL text serves both databases.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN is_admin BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN last_sign_in_at BIGINT;
ALTER TABLE users ADD COLUMN sessions_revoked_at BIGINT;

-- The access check looks up the disabled users of a document's member organisations.
CREATE INDEX users_by_org ON users (org_id);

-- Which organisation an identity provider's claim value stands for: the value of the
-- configured claim (Entra's `department`, a group id) for one provider (its issuer URL)
-- maps to one of our organisations. An unmapped value is refused at sign-in, never
-- made into a new organisation.
CREATE TABLE org_mappings (
    provider    TEXT NOT NULL,
    claim_value TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, claim_value)
);
