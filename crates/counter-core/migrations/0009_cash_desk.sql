-- The drawer through the day: the float put in before the first sale, the cash taken out
-- to the bank (drops), and the count at the close. Amounts are minor units.

-- One float per business day (the store's day, YYYY-MM-DD), set by anyone; changed
-- (by a manager only) until the count.
CREATE TABLE opening_floats (
    day        TEXT    PRIMARY KEY NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    set_by     TEXT    NOT NULL,  -- the staff member's name
    set_at_ms  INTEGER NOT NULL
) STRICT;

-- Cash taken out of the drawer to the bank; counted in the day of `dropped_at_ms`. Never
-- changed or removed: a wrong drop is answered by the count's over/short and its note.
CREATE TABLE cash_drops (
    drop_id       TEXT    PRIMARY KEY NOT NULL,  -- UUIDv7
    amount        INTEGER NOT NULL CHECK (amount > 0),
    dropped_by    TEXT    NOT NULL,
    dropped_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX cash_drops_by_time ON cash_drops (dropped_at_ms);

-- The blind count of a day (JSON of `tillfund_core::cash_count::CashCount`), as sent with
-- the close. Counted once; counted again only when cash moved after the count (a top-up
-- or reversal recorded since), which makes the first count stale.
CREATE TABLE cash_counts (
    day           TEXT    PRIMARY KEY NOT NULL,
    count         TEXT    NOT NULL,
    counted_at_ms INTEGER NOT NULL
) STRICT;

CREATE TRIGGER cash_drops_are_kept BEFORE UPDATE ON cash_drops
BEGIN SELECT RAISE(ABORT, 'a cash drop is kept as recorded'); END;
CREATE TRIGGER cash_drops_are_never_deleted BEFORE DELETE ON cash_drops
BEGIN SELECT RAISE(ABORT, 'a cash drop is kept as recorded'); END;
CREATE TRIGGER cash_counts_are_never_deleted BEFORE DELETE ON cash_counts
BEGIN SELECT RAISE(ABORT, 'a cash count is kept'); END;
