-- The audit chain is keyed (HMAC-SHA256 under a key held outside the database) from the event
-- after the last one written before this release; the store sets `keyed_from` on first open.
ALTER TABLE audit_head ADD COLUMN keyed_from BIGINT;

-- Append-only: no statement updates, deletes or truncates an audit event. (A deployment also
-- serves as a role granted only SELECT and INSERT on audit_log: see the README.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
