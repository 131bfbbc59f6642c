-- Tickets and their messages. A ticket's number is what people quote ("[#42]").
CREATE TABLE tickets (
    number             BIGSERIAL PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    subject            TEXT NOT NULL,
    requester          TEXT NOT NULL,
    requester_name     TEXT,
    incoming_server_id TEXT REFERENCES config_objects (id) ON DELETE SET NULL,
    grp                TEXT,
    category           TEXT,
    status             TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status, updated_at);

CREATE TABLE ticket_messages (
    id                 TEXT PRIMARY KEY NOT NULL,
    ticket_number      BIGINT NOT NULL REFERENCES tickets (number) ON DELETE CASCADE,
    -- Order within the ticket (timestamps can tie).
    seq                BIGINT NOT NULL,
    direction          TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind               TEXT NOT NULL,
    message_id         TEXT,
    from_address       TEXT,
    from_name          TEXT,
    recipients         TEXT NOT NULL,
    subject            TEXT NOT NULL,
    body_text          TEXT NOT NULL,
    body_html          TEXT,
    problems           TEXT NOT NULL,
    raw                BYTEA NOT NULL,
    incoming_server_id TEXT REFERENCES config_objects (id) ON DELETE SET NULL,
    created_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX ticket_messages_ticket ON ticket_messages (ticket_number, seq);
CREATE INDEX ticket_messages_message_id ON ticket_messages (message_id);

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY NOT NULL,
    message_id   TEXT NOT NULL REFERENCES ticket_messages (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    inline       BOOLEAN NOT NULL,
    content_id   TEXT,
    content      BYTEA NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id, position);

-- Every message read from a mailbox, by where it came from ("server:uidvalidity:uid" or
-- "server:uidl:..."), whatever became of it: this is what makes an import happen once.
CREATE TABLE mailbox_sources (
    source_key        TEXT PRIMARY KEY NOT NULL,
    server_id         TEXT NOT NULL REFERENCES config_objects (id) ON DELETE CASCADE,
    outcome           TEXT NOT NULL,
    ticket_message_id TEXT,
    created_at        BIGINT NOT NULL
);

-- How far an IMAP mailbox has been read (POP3 progress is the set of sources).
CREATE TABLE mailbox_progress (
    server_id    TEXT PRIMARY KEY NOT NULL REFERENCES config_objects (id) ON DELETE CASCADE,
    uid_validity BIGINT NOT NULL,
    last_uid     BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
