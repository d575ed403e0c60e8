-- Flags raised by the rules, per child. A flag is identified by its rule and the entry it rests
-- on first; re-evaluation changes stored flags only by difference: raised, updated, resolved.

CREATE TABLE flags (
    person_id TEXT NOT NULL REFERENCES persons (id),
    flag_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    first_knowable TEXT NOT NULL,
    sentence TEXT NOT NULL,
    -- the entries behind the flag, comma-separated, and the rule's parameters as JSON
    entries TEXT NOT NULL,
    parameters TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT,
    PRIMARY KEY (person_id, flag_key)
);
CREATE INDEX flags_open ON flags (person_id, resolved_at);
