-- What servers authenticate with: an OAuth grant (per OAuth app and mailbox, shared by every
-- server that uses that app for that mailbox) or a service account's delegated token (per
-- service account, mailbox and scope). Tokens are sealed with the master key.
CREATE TABLE credentials (
    id                TEXT PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('oauth_grant', 'service_account')),
    owner_id          TEXT NOT NULL REFERENCES config_objects (id) ON DELETE CASCADE,
    subject           TEXT NOT NULL,
    scope             TEXT NOT NULL,
    granted_scope     TEXT NOT NULL DEFAULT '',
    sealed            BLOB,
    access_expires_at INTEGER,
    refresh_at        INTEGER,
    status            TEXT NOT NULL,
    last_error        TEXT,
    failures          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (kind, owner_id, subject, scope)
);
CREATE INDEX credentials_refresh ON credentials (status, refresh_at);

-- Consent in flight: a single-use `state` (only its hash is kept) with its PKCE verifier.
CREATE TABLE oauth_states (
    state_hash      BLOB PRIMARY KEY NOT NULL,
    server_id       TEXT NOT NULL REFERENCES config_objects (id) ON DELETE CASCADE,
    sealed_verifier BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);

-- What happened, in order; delivered to webhooks later.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    subject_id TEXT,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
