-- The seed's tables, with the columns the library needs (see SCHEMA.md).
-- Times are INTEGER Unix microseconds (UTC); booleans INTEGER 0/1; lists
-- space-separated TEXT. STRICT makes SQLite refuse a value of the wrong
-- type; WITHOUT ROWID stores each row once, in its primary key's b-tree.

CREATE TABLE oauth_clients (
    id              TEXT    NOT NULL PRIMARY KEY,
    secret          TEXT,
    name            TEXT    NOT NULL,
    redirect_uri    TEXT    NOT NULL,
    is_confidential INTEGER NOT NULL DEFAULT 0,
    grant_types     TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE oauth_scopes (
    id          TEXT NOT NULL PRIMARY KEY,
    description TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE oauth_access_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT,
    client_id  TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL,
    family_id  TEXT    NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_expiry ON oauth_access_tokens (expires_at);

CREATE TABLE oauth_refresh_tokens (
    id              TEXT    NOT NULL PRIMARY KEY,
    access_token_id TEXT    NOT NULL REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
    client_id       TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         TEXT,
    scopes          TEXT    NOT NULL,
    family_id       TEXT    NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    rotated_at      INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_refresh_tokens_access_token ON oauth_refresh_tokens (access_token_id);
CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens (client_id);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_expiry ON oauth_refresh_tokens (expires_at);

CREATE TABLE oauth_auth_codes (
    id                    TEXT    NOT NULL PRIMARY KEY,
    user_id               TEXT    NOT NULL,
    client_id             TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes                TEXT    NOT NULL,
    family_id             TEXT    NOT NULL,
    revoked               INTEGER NOT NULL DEFAULT 0,
    expires_at            INTEGER NOT NULL,
    redirect_uri          TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    created_at            INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_auth_codes_client ON oauth_auth_codes (client_id);
CREATE INDEX oauth_auth_codes_expiry ON oauth_auth_codes (expires_at);

CREATE TABLE oauth_device_codes (
    id                        TEXT    NOT NULL PRIMARY KEY,
    user_code                 TEXT    NOT NULL,
    user_code_slot            TEXT,
    client_id                 TEXT    NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id                   TEXT,
    scopes                    TEXT    NOT NULL,
    family_id                 TEXT    NOT NULL,
    verification_uri          TEXT    NOT NULL,
    verification_uri_complete TEXT,
    interval_seconds          INTEGER NOT NULL,
    last_polled_at            INTEGER,
    status                    TEXT    NOT NULL,
    revoked                   INTEGER NOT NULL DEFAULT 0,
    expires_at                INTEGER NOT NULL,
    created_at                INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX oauth_device_codes_user_code_slot ON oauth_device_codes (user_code_slot);
CREATE INDEX oauth_device_codes_user_code ON oauth_device_codes (user_code);
CREATE INDEX oauth_device_codes_client ON oauth_device_codes (client_id);
CREATE INDEX oauth_device_codes_expiry ON oauth_device_codes (expires_at);
