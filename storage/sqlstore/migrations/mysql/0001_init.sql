-- The seed's tables, with the columns the library needs (see SCHEMA.md).
-- MySQL and MariaDB do not run DDL in transactions: Migrate applies one
-- statement at a time and records its progress after each, and every
-- statement is idempotent (IF NOT EXISTS, indexes declared inline) so that
-- a migration interrupted between a statement and its record resumes
-- cleanly. utf8mb4_bin compares identifiers byte for byte, as Go does.

CREATE TABLE IF NOT EXISTS oauth_clients (
    id              VARCHAR(80)  NOT NULL,
    secret          VARCHAR(255) NULL,
    name            VARCHAR(255) NOT NULL,
    redirect_uri    TEXT         NOT NULL,
    is_confidential TINYINT(1)   NOT NULL DEFAULT 0,
    grant_types     TEXT         NOT NULL,
    scopes          TEXT         NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    updated_at      DATETIME(6)  NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oauth_scopes (
    id          VARCHAR(80)  NOT NULL,
    description VARCHAR(255) NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oauth_access_tokens (
    id         VARCHAR(100) NOT NULL,
    user_id    VARCHAR(255) NULL,
    client_id  VARCHAR(80)  NOT NULL,
    scopes     TEXT         NOT NULL,
    family_id  VARCHAR(100) NOT NULL,
    revoked    TINYINT(1)   NOT NULL DEFAULT 0,
    expires_at DATETIME(6)  NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    updated_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    KEY oauth_access_tokens_client (client_id),
    KEY oauth_access_tokens_family (family_id),
    KEY oauth_access_tokens_expiry (expires_at),
    CONSTRAINT oauth_access_tokens_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    id              VARCHAR(100) NOT NULL,
    access_token_id VARCHAR(100) NOT NULL,
    client_id       VARCHAR(80)  NOT NULL,
    user_id         VARCHAR(255) NULL,
    scopes          TEXT         NOT NULL,
    family_id       VARCHAR(100) NOT NULL,
    revoked         TINYINT(1)   NOT NULL DEFAULT 0,
    expires_at      DATETIME(6)  NOT NULL,
    created_at      DATETIME(6)  NOT NULL,
    rotated_at      DATETIME(6)  NULL,
    PRIMARY KEY (id),
    KEY oauth_refresh_tokens_access_token (access_token_id),
    KEY oauth_refresh_tokens_client (client_id),
    KEY oauth_refresh_tokens_family (family_id),
    KEY oauth_refresh_tokens_expiry (expires_at),
    CONSTRAINT oauth_refresh_tokens_access_token_fk FOREIGN KEY (access_token_id) REFERENCES oauth_access_tokens (id) ON DELETE CASCADE,
    CONSTRAINT oauth_refresh_tokens_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oauth_auth_codes (
    id                    VARCHAR(100) NOT NULL,
    user_id               VARCHAR(255) NOT NULL,
    client_id             VARCHAR(80)  NOT NULL,
    scopes                TEXT         NOT NULL,
    family_id             VARCHAR(100) NOT NULL,
    revoked               TINYINT(1)   NOT NULL DEFAULT 0,
    expires_at            DATETIME(6)  NOT NULL,
    redirect_uri          TEXT         NULL,
    code_challenge        VARCHAR(128) NULL,
    code_challenge_method VARCHAR(10)  NULL,
    created_at            DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    KEY oauth_auth_codes_client (client_id),
    KEY oauth_auth_codes_expiry (expires_at),
    CONSTRAINT oauth_auth_codes_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oauth_device_codes (
    id                        VARCHAR(100) NOT NULL,
    user_code                 VARCHAR(16)  NOT NULL,
    user_code_slot            VARCHAR(16)  NULL,
    client_id                 VARCHAR(80)  NOT NULL,
    user_id                   VARCHAR(255) NULL,
    scopes                    TEXT         NOT NULL,
    family_id                 VARCHAR(100) NOT NULL,
    verification_uri          TEXT         NOT NULL,
    verification_uri_complete TEXT         NULL,
    interval_seconds          INT          NOT NULL,
    last_polled_at            DATETIME(6)  NULL,
    status                    VARCHAR(16)  NOT NULL,
    revoked                   TINYINT(1)   NOT NULL DEFAULT 0,
    expires_at                DATETIME(6)  NOT NULL,
    created_at                DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY oauth_device_codes_user_code_slot (user_code_slot),
    KEY oauth_device_codes_user_code (user_code),
    KEY oauth_device_codes_client (client_id),
    KEY oauth_device_codes_expiry (expires_at),
    CONSTRAINT oauth_device_codes_client_fk FOREIGN KEY (client_id) REFERENCES oauth_clients (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
