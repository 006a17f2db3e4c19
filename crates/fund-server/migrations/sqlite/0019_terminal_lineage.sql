-- A counter enrolled again is a new terminal that replaces its previous one (proved with the
-- previous terminal's key at enrolment, which then revokes it). Kept so that the counter's
-- day adds up across the change: its records of the day are under both terminals.
ALTER TABLE terminals ADD COLUMN replaces TEXT REFERENCES terminals (id);
