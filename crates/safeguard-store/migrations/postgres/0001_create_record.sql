-- The multi-agency record: agencies, persons and their records, entries and what they state.
-- Kept identical to the SQLite migration except for the audit sequence column's type.

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL
);

-- A person is a cluster of person records; identity resolution moves records between persons.
CREATE TABLE persons (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE person_records (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES persons (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    source_system TEXT NOT NULL,
    local_id TEXT NOT NULL,
    -- recorded_at (microseconds) of the entry whose demographics these are: later wins
    as_of BIGINT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    -- search keys, normalised (lower case, letters and digits only)
    search_names TEXT NOT NULL,
    date_of_birth TEXT,
    nhs_number TEXT,
    postcode TEXT,
    record TEXT NOT NULL,
    UNIQUE (agency_id, source_system, local_id)
);
CREATE INDEX person_records_person ON person_records (person_id);
CREATE INDEX person_records_nhs_number ON person_records (nhs_number);
CREATE INDEX person_records_postcode ON person_records (postcode);
CREATE INDEX person_records_date_of_birth ON person_records (date_of_birth);

-- Entries are appended, never updated: a correction is a new entry naming the one it supersedes.
CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    source_system TEXT NOT NULL,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- seconds since 1970 in UK local time, the first moment the event could have happened
    occurred_at BIGINT NOT NULL,
    occurred_precision TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    supersedes TEXT REFERENCES entries (id),
    content_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (agency_id, source_system, source_id)
);
CREATE INDEX entries_supersedes ON entries (supersedes);
CREATE INDEX entries_occurred_at ON entries (occurred_at);

CREATE TABLE entry_persons (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    position BIGINT NOT NULL,
    record_id TEXT NOT NULL REFERENCES person_records (id),
    role TEXT NOT NULL,
    PRIMARY KEY (entry_id, position)
);
CREATE INDEX entry_persons_record ON entry_persons (record_id, entry_id);

CREATE TABLE residences (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    position BIGINT NOT NULL,
    record_id TEXT NOT NULL REFERENCES person_records (id),
    address_key TEXT NOT NULL,
    address TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    strength TEXT NOT NULL,
    PRIMARY KEY (entry_id, position)
);
CREATE INDEX residences_record ON residences (record_id);
CREATE INDEX residences_address ON residences (address_key);

CREATE TABLE relationships (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    position BIGINT NOT NULL,
    record_id TEXT NOT NULL REFERENCES person_records (id),
    kind TEXT NOT NULL,
    other_record_id TEXT NOT NULL REFERENCES person_records (id),
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    strength TEXT NOT NULL,
    PRIMARY KEY (entry_id, position)
);
CREATE INDEX relationships_record ON relationships (record_id);
CREATE INDEX relationships_other_record ON relationships (other_record_id);

-- Every write, and every read of a child's record, lands here in the same transaction as the
-- write or read. A hash chain: each event holds the hash of the one before it, and audit_head the
-- last, so that an edited, removed, reordered or truncated event is detected.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    agency TEXT,
    role TEXT,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- One row; updating it first in each auditing transaction also serialises them.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
