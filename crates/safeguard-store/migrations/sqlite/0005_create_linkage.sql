-- Identity resolution: every record's blocking keys (for matching arriving records), the model
-- trained on the store's records, links proposed for a person to decide, and people's
-- decisions, which automatic linkage never overrides. A pair is stored with the smaller
-- record id first.

-- A person merged into another points to it, so that links to the old person still resolve.
ALTER TABLE persons ADD COLUMN merged_into TEXT REFERENCES persons (id);

-- WITHOUT ROWID: the key is the row, so a record's keys cost two B-tree inserts, not three.
CREATE TABLE person_record_keys (
    blocking_key BIGINT NOT NULL,
    record_id TEXT NOT NULL REFERENCES person_records (id),
    PRIMARY KEY (blocking_key, record_id)
) WITHOUT ROWID;
CREATE INDEX person_record_keys_record ON person_record_keys (record_id);

CREATE TABLE linkage_models (
    id BIGINT PRIMARY KEY,
    trained_at BIGINT NOT NULL,
    records BIGINT NOT NULL,
    model TEXT NOT NULL
);

CREATE TABLE link_reviews (
    record_id TEXT NOT NULL REFERENCES person_records (id),
    other_record_id TEXT NOT NULL REFERENCES person_records (id),
    -- the match probability in millionths
    probability_ppm BIGINT NOT NULL,
    reason TEXT NOT NULL,
    proposed_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, other_record_id)
);
CREATE INDEX link_reviews_probability ON link_reviews (probability_ppm);

CREATE TABLE link_decisions (
    record_id TEXT NOT NULL REFERENCES person_records (id),
    other_record_id TEXT NOT NULL REFERENCES person_records (id),
    same_person BIGINT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (record_id, other_record_id)
);
CREATE INDEX link_decisions_other ON link_decisions (other_record_id);
