-- Entries by kind, for the few kinds read across the whole store on every read of a child's
-- record (whether a practice review of the child is open starts from the serious incidents,
-- a handful in any store, not from the child's every entry).
CREATE INDEX entries_kind ON entries (kind, occurred_at);
