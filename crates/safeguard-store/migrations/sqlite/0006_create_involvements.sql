-- Involvement established by the server, not claimed by the caller: one row per agency record
-- named in an entry. `held` (the agency held the child first, or nobody else had recorded about
-- them), `requested` (it recorded about a child others hold and waits for the lead professional
-- or a safeguarding lead), `confirmed` or `declined`. `last_entry_at` is when Safeguard
-- received the agency's latest entry naming the record: standing lapses after the involvement
-- period without one.
CREATE TABLE involvements (
    record_id TEXT PRIMARY KEY REFERENCES person_records (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    state TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    last_entry_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    reason TEXT
);
CREATE INDEX involvements_state ON involvements (state, last_entry_at);

-- Backfill: every agency that recorded before involvement was established keeps the standing
-- it had, counted from when its entries were received.
INSERT INTO involvements (record_id, agency_id, state, requested_at, last_entry_at)
SELECT r.id, r.agency_id, 'held', MIN(e.received_at), MAX(e.received_at)
FROM person_records r
JOIN entry_persons ep ON ep.record_id = r.id
JOIN entries e ON e.id = ep.entry_id
GROUP BY r.id, r.agency_id;
