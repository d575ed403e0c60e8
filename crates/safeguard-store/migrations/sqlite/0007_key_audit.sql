-- The audit chain is keyed (HMAC-SHA256 under a key held outside the database) from the event
-- after the last one written before this release; the store sets `keyed_from` on first open.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;

-- Append-only: no statement of the application updates or deletes an audit event.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
