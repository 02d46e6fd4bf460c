-- The seed's tables, with the columns the library needs (see SCHEMA.md).
-- Identifiers use the "C" collation: byte-order comparison and ORDER BY,
-- as Go compares strings. Times are timestamptz (UTC instants, microsecond
-- precision).

CREATE TABLE oauth_clients (
    id              VARCHAR(80)  COLLATE "C" NOT NULL PRIMARY KEY,
    secret          VARCHAR(255),
    name            VARCHAR(255) NOT NULL,
    redirect_uri    TEXT         NOT NULL,
    is_confidential BOOLEAN      NOT NULL DEFAULT FALSE,
    grant_types     TEXT         NOT NULL,
    scopes          TEXT         NOT NULL,
    created_at      TIMESTAMPTZ  NOT NULL,
    updated_at      TIMESTAMPTZ  NOT NULL
);

CREATE TABLE oauth_scopes (
    id          VARCHAR(80)  COLLATE "C" NOT NULL PRIMARY KEY,
    description VARCHAR(255)
);

CREATE TABLE oauth_access_tokens (
    id         VARCHAR(100) COLLATE "C" NOT NULL PRIMARY KEY,
    user_id    VARCHAR(255) COLLATE "C",
    client_id  VARCHAR(80)  COLLATE "C" NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT         NOT NULL,
    family_id  VARCHAR(100) COLLATE "C" NOT NULL,
    revoked    BOOLEAN      NOT NULL DEFAULT FALSE,
    expires_at TIMESTAMPTZ  NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL,
    updated_at TIMESTAMPTZ  NOT NULL
);
CREATE INDEX oauth_access_tokens_client ON oauth_access_tokens (client_id);
CREATE INDEX oauth_access_tokens_family ON oauth_access_tokens (family_id);
CREATE INDEX oauth_access_tokens_expiry ON oauth_access_tokens (expires_at);

CREATE TABLE oauth_refresh_tokens (
    id              VARCHAR(100) COLLATE "C" NOT NULL PRIMARY KEY,
    access_token_id VARCHAR(100) COLLATE "C" NOT NULL REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
    client_id       VARCHAR(80)  COLLATE "C" NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id         VARCHAR(255) COLLATE "C",
    scopes          TEXT         NOT NULL,
    family_id       VARCHAR(100) COLLATE "C" NOT NULL,
    revoked         BOOLEAN      NOT NULL DEFAULT FALSE,
    expires_at      TIMESTAMPTZ  NOT NULL,
    created_at      TIMESTAMPTZ  NOT NULL,
    rotated_at      TIMESTAMPTZ
);
CREATE INDEX oauth_refresh_tokens_access_token ON oauth_refresh_tokens (access_token_id);
CREATE INDEX oauth_refresh_tokens_client ON oauth_refresh_tokens (client_id);
CREATE INDEX oauth_refresh_tokens_family ON oauth_refresh_tokens (family_id);
CREATE INDEX oauth_refresh_tokens_expiry ON oauth_refresh_tokens (expires_at);

CREATE TABLE oauth_auth_codes (
    id                    VARCHAR(100) COLLATE "C" NOT NULL PRIMARY KEY,
    user_id               VARCHAR(255) COLLATE "C" NOT NULL,
    client_id             VARCHAR(80)  COLLATE "C" NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes                TEXT         NOT NULL,
    family_id             VARCHAR(100) COLLATE "C" NOT NULL,
    revoked               BOOLEAN      NOT NULL DEFAULT FALSE,
    expires_at            TIMESTAMPTZ  NOT NULL,
    redirect_uri          TEXT,
    code_challenge        VARCHAR(128),
    code_challenge_method VARCHAR(10),
    created_at            TIMESTAMPTZ  NOT NULL
);
CREATE INDEX oauth_auth_codes_client ON oauth_auth_codes (client_id);
CREATE INDEX oauth_auth_codes_expiry ON oauth_auth_codes (expires_at);

CREATE TABLE oauth_device_codes (
    id                        VARCHAR(100) COLLATE "C" NOT NULL PRIMARY KEY,
    user_code                 VARCHAR(16)  COLLATE "C" NOT NULL,
    user_code_slot            VARCHAR(16)  COLLATE "C" UNIQUE,
    client_id                 VARCHAR(80)  COLLATE "C" NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id                   VARCHAR(255) COLLATE "C",
    scopes                    TEXT         NOT NULL,
    family_id                 VARCHAR(100) COLLATE "C" NOT NULL,
    verification_uri          TEXT         NOT NULL,
    verification_uri_complete TEXT,
    interval_seconds          INTEGER      NOT NULL,
    last_polled_at            TIMESTAMPTZ,
    status                    VARCHAR(16)  NOT NULL,
    revoked                   BOOLEAN      NOT NULL DEFAULT FALSE,
    expires_at                TIMESTAMPTZ  NOT NULL,
    created_at                TIMESTAMPTZ  NOT NULL
);
CREATE INDEX oauth_device_codes_user_code ON oauth_device_codes (user_code);
CREATE INDEX oauth_device_codes_client ON oauth_device_codes (client_id);
CREATE INDEX oauth_device_codes_expiry ON oauth_device_codes (expires_at);
