-- The hash chain, held by the database too (as on PostgreSQL): an entry follows the last
-- one without a gap and names its hash, so no writer, a second process or an intruder with
-- the file, can fork the journal or skip a number. The audit still recomputes every hash.
CREATE TRIGGER journal_entries_extend_the_chain BEFORE INSERT ON journal_entries
WHEN NEW.sequence <> coalesce((SELECT max(sequence) FROM journal_entries), 0) + 1
  OR NEW.previous_hash IS NOT coalesce(
       (SELECT hash FROM journal_entries WHERE sequence = NEW.sequence - 1),
       zeroblob(32))
BEGIN
    SELECT RAISE(ABORT, 'a journal entry must extend the hash chain');
END;
