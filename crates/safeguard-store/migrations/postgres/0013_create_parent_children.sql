-- Which child records each parent record is named with, as the subject child of one entry:
-- a child's siblings are then found from their parents' few records, not by walking every
-- entry that names a parent (all of a long chronology's, on every append). Records, not
-- persons, so that linkage moving a record leaves the pairs true.
CREATE TABLE parent_children (
    parent_record_id TEXT NOT NULL REFERENCES person_records (id),
    child_record_id TEXT NOT NULL REFERENCES person_records (id),
    PRIMARY KEY (parent_record_id, child_record_id)
);
INSERT INTO parent_children (parent_record_id, child_record_id)
SELECT DISTINCT p.record_id, s.record_id FROM entry_persons p
JOIN entry_persons s ON s.entry_id = p.entry_id AND s.role = 'subject_child'
WHERE p.role = 'parent';
