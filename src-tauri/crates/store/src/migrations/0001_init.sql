-- Reconnect metadata, version 1. No secret ever goes in here: tokens live in
-- the OS keychain; this file holds what is safe to show an admin.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    provider        TEXT NOT NULL CHECK (provider IN ('microsoft', 'oidc')),
    authority       TEXT NOT NULL,          -- Microsoft base URL, or the OIDC issuer
    tenant          TEXT,                   -- Microsoft only
    client_id       TEXT NOT NULL,
    scopes          TEXT NOT NULL,          -- space-separated
    redirect_host   TEXT NOT NULL DEFAULT 'localhost',
    redirect_port_min INTEGER NOT NULL DEFAULT 0,  -- 0..0 = any free port
    redirect_port_max INTEGER NOT NULL DEFAULT 0,
    redirect_path   TEXT NOT NULL DEFAULT '/',
    upn             TEXT,
    oid             TEXT,
    tid             TEXT,
    display_name    TEXT,
    issuer          TEXT,                   -- iss of the id_token (oidc)
    subject         TEXT,                   -- sub of the id_token (oidc)
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Facts about the tokens in the keychain, never the tokens. A row exists only
-- after the keychain write succeeded.
CREATE TABLE token_facts (
    account_id          INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    access_expires_at   INTEGER,
    refresh_issued_at   INTEGER,            -- first issue of this refresh-token chain
    refresh_last_used_at INTEGER,
    rotation_count      INTEGER NOT NULL DEFAULT 0,
    spa                 INTEGER NOT NULL DEFAULT 0,
    stored_at           INTEGER NOT NULL
);

-- Health as the engine sees it: a state name and the last decoded failure
-- (JSON), both owned by reconnect-core.
CREATE TABLE health (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    last_failure    TEXT,                   -- JSON
    updated_at      INTEGER NOT NULL
);

-- Every refresh and sign-in attempt. History outlives its account
-- (account_id becomes NULL; account_name stays).
CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    account_id      INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    account_name    TEXT,
    kind            TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    duration_ms     INTEGER,
    code            TEXT,                   -- e.g. AADSTS70008
    error           TEXT,                   -- e.g. invalid_grant
    suberror        TEXT,
    trace_id        TEXT,
    correlation_id  TEXT,
    message         TEXT
);

CREATE INDEX events_by_time ON events (at);
CREATE INDEX events_by_account ON events (account_id, at);
-- "Failures by code over time".
CREATE INDEX events_failures_by_code ON events (code, at) WHERE outcome <> 'ok';
