-- Who may see what: users of agencies with roles, their sessions, agency API tokens,
-- allocations of workers to children, and break-glass grants.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    display_name TEXT NOT NULL,
    -- Argon2id, in the PHC string format
    password_hash TEXT NOT NULL,
    -- comma-separated role names
    roles TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

-- Only hashes of session and API tokens are kept: a copy of the database lets nobody in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- A worker allocated to a child opens their agency's involvement; the lead professional is
-- alerted when other agencies record entries.
CREATE TABLE allocations (
    person_id TEXT NOT NULL REFERENCES persons (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    lead BIGINT NOT NULL DEFAULT 0,
    allocated_at BIGINT NOT NULL,
    ended_at BIGINT,
    PRIMARY KEY (person_id, user_id)
);
CREATE INDEX allocations_user ON allocations (user_id);

CREATE TABLE break_glass (
    session_hash TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (session_hash, person_id)
);
CREATE INDEX break_glass_person ON break_glass (person_id);
