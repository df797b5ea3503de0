-- Who changed what in the directory (issue 15): every administration use case (the
-- admin API and `forankra org|user`) writes one entry in the transaction of its
-- change. Documents have their audit trail; organisations, users and the identity
-- providers' organisation mapping are server-wide, so their changes are kept here.
-- `actor` is the administrator's user id, NULL for the command line; `detail` is JSON
-- (never a password or its hash). Times are epoch milliseconds.
CREATE TABLE admin_log (
    id      TEXT PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX admin_log_by_time ON admin_log (at);

-- The membership recheck reads, every second and for each open document, the users
-- whose sign-ins ended in the last ten minutes (a user moved to another organisation
-- loses their open sockets): an index keeps that a range read, not a scan of users.
CREATE INDEX users_by_sessions_revoked ON users (sessions_revoked_at);
