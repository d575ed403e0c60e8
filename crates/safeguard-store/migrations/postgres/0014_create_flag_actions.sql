-- What professionals did about a concern the rules raised: acknowledged it, saying why, or
-- assigned it to a worker. A history, never edited: the latest acknowledgement and the latest
-- assignment are the concern's state, and each is in the audit chain too.
CREATE TABLE flag_actions (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    flag_key TEXT NOT NULL,
    -- 'acknowledged' or 'assigned'
    action TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    reason TEXT,
    assignee TEXT REFERENCES users (id),
    at BIGINT NOT NULL,
    FOREIGN KEY (person_id, flag_key) REFERENCES flags (person_id, flag_key)
);
CREATE INDEX flag_actions_flag ON flag_actions (person_id, flag_key, at);
CREATE INDEX flag_actions_assignee ON flag_actions (assignee, at);
