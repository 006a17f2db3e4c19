-- A counter enrolled again is a new terminal that replaces its previous one (proved with the
-- previous terminal's key at enrolment, which revokes it in the same transaction). Kept both
-- ways so that the counter's day adds up across the change (its records of the day are under
-- both terminals): `replaces` on the new terminal, `replaced_by` on the old one, set once —
-- the first replacement stands, so a second enrolment naming the same old terminal (from a
-- copy of its key) revokes nothing more and adopts none of its figures.
ALTER TABLE terminals ADD COLUMN replaces TEXT REFERENCES terminals (id);
ALTER TABLE terminals ADD COLUMN replaced_by TEXT REFERENCES terminals (id);
