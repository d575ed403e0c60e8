-- Alerts to professionals: when any agency records an entry about a child whom a professional
-- of another agency leads (or, for a child on a plan, is allocated to); and escalations of
-- flags (a missed timescale) to the team managers of the agencies holding the child.

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    person_id TEXT NOT NULL REFERENCES persons (id),
    entry_id TEXT NOT NULL REFERENCES entries (id),
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    -- for an escalation, the flag's sentence
    reason TEXT,
    UNIQUE (user_id, entry_id, person_id)
);
CREATE INDEX alerts_user ON alerts (user_id, created_at);

-- An agency may have its alerts posted to a webhook, signed with HMAC-SHA256. Deliveries are
-- queued in the same transaction as the alert and retried until the agency accepts them.
CREATE TABLE agency_webhooks (
    agency_id TEXT PRIMARY KEY REFERENCES agencies (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (delivered_at, next_attempt_at);
