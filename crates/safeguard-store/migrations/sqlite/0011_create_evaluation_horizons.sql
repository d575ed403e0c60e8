-- Until when each child's stored flags hold with nothing more recorded: the day an
-- evaluation said they could first change with time alone (a clock falling due, a stretch
-- unseen passing its limit), or NULL when only a new entry can change them. The daily tick
-- evaluates only the children whose day has come, not every child.
CREATE TABLE evaluation_horizons (
    person_id TEXT PRIMARY KEY,
    evaluated_on TEXT NOT NULL,
    changes_on TEXT
);
CREATE INDEX evaluation_horizons_changes_on ON evaluation_horizons (changes_on);
CREATE INDEX evaluation_horizons_evaluated_on ON evaluation_horizons (evaluated_on);

-- The rules, clocks and calendar the horizons were worked out under: another rule book
-- evaluates every child again.
CREATE TABLE evaluation_book (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
);
