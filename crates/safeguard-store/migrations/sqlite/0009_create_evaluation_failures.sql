-- A child whose rules or clocks could not be evaluated (a year missing from the calendar, a
-- rule that errs): the entries are stored all the same, and the failure waits here, for
-- administrators to see, until an evaluation succeeds.
CREATE TABLE evaluation_failures (
    person_id TEXT PRIMARY KEY REFERENCES persons (id),
    reason TEXT NOT NULL,
    first_failed_at BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
