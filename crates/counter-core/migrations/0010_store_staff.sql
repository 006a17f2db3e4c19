-- The store's staff is kept on the server (one list for all its counters); this table is
-- the counter's copy, to sign in with offline. `server_sequence` is the server's place of
-- the change a row reflects, NULL for a member this counter made before it kept its staff
-- on the server (or before it was enrolled, or in its former store): such a member is sent
-- to the server at the next sync. Wrong-PIN counts and lock-outs stay local.
ALTER TABLE staff ADD COLUMN server_sequence INTEGER;
-- Set when the server refused a local member for good (say the store's 200 are full): the
-- member still works at this counter, and is not sent again every round.
ALTER TABLE staff ADD COLUMN push_refused TEXT;
