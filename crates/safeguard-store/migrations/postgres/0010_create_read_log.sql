-- The chain of reads: every read of a record, every refusal and every search, keyed like the
-- chain of writes but with a head of its own, so that auditing a read never waits for the
-- head of the writes (which a long append holds until it commits).
CREATE TABLE read_log (
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
CREATE INDEX read_log_subject ON read_log (subject);
CREATE TABLE read_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    keyed_from BIGINT
);
INSERT INTO read_head (id, seq, hash, keyed_from)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 1);
CREATE TRIGGER read_log_no_change BEFORE UPDATE OR DELETE ON read_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER read_log_no_truncate BEFORE TRUNCATE ON read_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
