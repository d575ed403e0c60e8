-- The chain of reads, in a file of its own: every read of a record, every refusal and every
-- search, keyed like the chain of writes in the main file.
CREATE TABLE read_log (
    seq INTEGER PRIMARY KEY,
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
CREATE TRIGGER read_log_no_update BEFORE UPDATE ON read_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER read_log_no_delete BEFORE DELETE ON read_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
