-- Person search that forgives (see safeguard_linkage::search): each record's name parts and
-- postcode under keys of their spelling (and each one-letter deletion), their start, their
-- sound, and the postcode's sector and outward code. Exact lookups on both engines.
CREATE TABLE person_search_keys (
    search_key BIGINT NOT NULL,
    record_id TEXT NOT NULL REFERENCES person_records (id),
    PRIMARY KEY (search_key, record_id)
) WITHOUT ROWID;
CREATE INDEX person_search_keys_record ON person_search_keys (record_id);

-- The keys of the records stored before this migration are made in Rust on the next open,
-- which then deletes this row.
CREATE TABLE person_search_backfill (pending BIGINT NOT NULL);
INSERT INTO person_search_backfill (pending) VALUES (1);
