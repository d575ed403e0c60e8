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
