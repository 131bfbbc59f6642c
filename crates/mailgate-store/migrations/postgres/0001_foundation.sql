-- Settings the service keeps about itself (e.g. the master-key check value).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Admin API tokens: only a SHA-256 hash of each token is kept.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);

-- OAuth apps, service accounts, incoming and outgoing servers. Their fields live in `spec`
-- (JSON written and read by the domain parsers); what is queried or constrained has a column.
-- `sealed` holds the object's secrets, encrypted with the master key and bound to the row.
CREATE TABLE config_objects (
    id                 TEXT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('oauth_app', 'service_account', 'incoming_server', 'outgoing_server')),
    name               TEXT NOT NULL,
    spec               TEXT NOT NULL,
    sealed             BYTEA,
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    is_primary         BOOLEAN NOT NULL DEFAULT FALSE,
    oauth_app_id       TEXT REFERENCES config_objects (id) ON DELETE RESTRICT,
    service_account_id TEXT REFERENCES config_objects (id) ON DELETE RESTRICT,
    outgoing_server_id TEXT REFERENCES config_objects (id) ON DELETE RESTRICT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (kind, name)
);
CREATE UNIQUE INDEX config_objects_one_primary ON config_objects (kind) WHERE is_primary;
CREATE INDEX config_objects_oauth_app ON config_objects (oauth_app_id);
CREATE INDEX config_objects_service_account ON config_objects (service_account_id);
CREATE INDEX config_objects_outgoing_server ON config_objects (outgoing_server_id);
