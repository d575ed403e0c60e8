-- Sessions end after an idle period; API tokens expire and rotate. Existing sessions count as
-- seen when they began; existing tokens last 90 days from now, so that none stops at once (times in microseconds).
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
UPDATE sessions SET last_seen_at = created_at;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
UPDATE api_tokens SET expires_at = CAST(strftime('%s', 'now') AS BIGINT) * 1000000 + 90 * 86400000000;
