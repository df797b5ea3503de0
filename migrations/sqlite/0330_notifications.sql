-- Notifications (issue 17): what reaches people without their opening the app. A use
-- case's transaction writes the inbox rows it causes and links each to an e-mail in the
-- outbox, so a notification exists exactly when the action it reports was committed.
-- Times are epoch milliseconds, as everywhere else, so one SQL text serves both databases;
-- the PostgreSQL migration of the same number has the same shape.

-- A user's inbox. `payload` is JSON with what the message says (title, outcome, who);
-- `email_id` is the outbox message that carries it by e-mail, if any; `in_app` 0 is a
-- notification the user wants by e-mail only (kept for the message, not in the inbox).
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    doc_id       TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    thread_id    TEXT,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    read_at      BIGINT,
    email_id     TEXT,
    in_app       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX notifications_by_recipient ON notifications (recipient_id, id);
CREATE INDEX notifications_by_email ON notifications (email_id);

-- How a user wants each kind: `in_app`, `email`, `both` or `none`. No row: `both`.
CREATE TABLE notification_settings (
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('in_app', 'email', 'both', 'none')),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- The e-mail outbox: one row per message. Activities on one thread for one recipient
-- within the batching window join one pending row (`batch_key`); a worker leases due
-- rows (`lease_owner`, `lease_until`), so two nodes never send the same one.
CREATE TABLE email_outbox (
    id              TEXT PRIMARY KEY,
    recipient_id    TEXT NOT NULL,
    address         TEXT NOT NULL,
    batch_key       TEXT,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    sent_at         BIGINT,
    failed_at       BIGINT,
    last_error      TEXT
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at);
CREATE INDEX email_outbox_batch ON email_outbox (recipient_id, batch_key);

-- Reminders before (and the day after) the svarsdatum, one per invitee, svarsdatum and
-- stage: the primary key makes a reminder happen once whichever node computes it first.
CREATE TABLE remiss_reminders (
    doc_id   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    org_id   TEXT NOT NULL,
    deadline TEXT NOT NULL,
    stage    BIGINT NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (doc_id, org_id, deadline, stage)
);
