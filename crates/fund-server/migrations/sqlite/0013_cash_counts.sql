-- The drawer counts counters send with a day's close: one per counter and business day,
-- never replaced (a second count of the same day is not kept). Over/short is a record,
-- not money: the store owes the drawer cash of its top-ups whatever the drawer holds.
-- `server_drawer_cash` is what the server's entries of the counter's day put in the
-- drawer when the count arrived, to compare with the counter's own `drawer_cash`.
CREATE TABLE cash_counts (
    terminal_id        TEXT    NOT NULL REFERENCES terminals (id),
    day                TEXT    NOT NULL,
    merchant_id        TEXT    NOT NULL,
    opening_float      INTEGER NOT NULL CHECK (opening_float >= 0),
    drawer_cash        INTEGER NOT NULL,
    cash_dropped       INTEGER NOT NULL CHECK (cash_dropped >= 0),
    cash_drop_count    INTEGER NOT NULL CHECK (cash_drop_count >= 0),
    expected           INTEGER NOT NULL,
    counted            INTEGER NOT NULL CHECK (counted >= 0),
    over_short         INTEGER NOT NULL CHECK (over_short = counted - expected),
    denominations      TEXT    NOT NULL,  -- JSON: [{"value": 10000, "pieces": 3}, …]
    counted_by         TEXT    NOT NULL,
    counted_at_ms      INTEGER NOT NULL,
    note               TEXT,
    server_drawer_cash INTEGER NOT NULL,
    recorded_at_ms     INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, day)
) STRICT;

CREATE INDEX cash_counts_by_store_day ON cash_counts (merchant_id, day);

CREATE TRIGGER cash_counts_are_never_updated BEFORE UPDATE ON cash_counts
BEGIN SELECT RAISE(ABORT, 'a cash count is kept as sent'); END;
CREATE TRIGGER cash_counts_are_never_deleted BEFORE DELETE ON cash_counts
BEGIN SELECT RAISE(ABORT, 'a cash count is kept as sent'); END;
