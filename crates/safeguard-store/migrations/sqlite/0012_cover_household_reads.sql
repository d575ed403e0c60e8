-- Indexes that cover the reads an append's evaluation makes of a household: from a person to
-- their records, from a record to the entries it takes part in and in which role, from an
-- entry to its participants in a role, and from a record to its person. Person records and
-- entries carry large bodies; without these, a child with hundreds of entries costs a table
-- row fetch per participant of every entry on every append.
DROP INDEX person_records_person;
CREATE INDEX person_records_person ON person_records (person_id, id);
CREATE INDEX person_records_id_person ON person_records (id, person_id);
DROP INDEX entry_persons_record;
CREATE INDEX entry_persons_record ON entry_persons (record_id, role, entry_id);
CREATE INDEX entry_persons_entry_role ON entry_persons (entry_id, role, record_id);
