-- The outbox: every message asked to be sent, kept until it is sent, failed or blocked.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY NOT NULL,
    idempotency_key  TEXT UNIQUE,
    request_hash     BLOB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'blocked')),
    -- The server asked for (NULL: the primary).
    server_id        TEXT REFERENCES config_objects (id) ON DELETE SET NULL,
    ticket_number    INTEGER REFERENCES tickets (number) ON DELETE SET NULL,
    message_id       TEXT NOT NULL,
    draft            TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_until      INTEGER,
    sent_server_id   TEXT,
    result           TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_number);

-- What each server answered, round by round.
CREATE TABLE outbox_attempts (
    outbox_id   TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    round       INTEGER NOT NULL,
    server_id   TEXT,
    server_name TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    PRIMARY KEY (outbox_id, seq)
);
