-- The drawer counts counters send with a day's close: one per counter and business day,
-- never replaced (a second count of the same day is not kept). Over/short is a record,
-- not money: the store owes the drawer cash of its top-ups whatever the drawer holds.
-- `server_drawer_cash` is what the server's entries of the counter's day put in the
-- drawer when the count arrived, to compare with the counter's own `drawer_cash`.
CREATE TABLE cash_counts (
    terminal_id        TEXT    NOT NULL REFERENCES terminals (id),
    day                TEXT    NOT NULL,
    merchant_id        TEXT    NOT NULL,
    opening_float      BIGINT  NOT NULL CHECK (opening_float >= 0),
    drawer_cash        BIGINT  NOT NULL,
    cash_dropped       BIGINT  NOT NULL CHECK (cash_dropped >= 0),
    cash_drop_count    BIGINT  NOT NULL CHECK (cash_drop_count >= 0),
    expected           BIGINT  NOT NULL,
    counted            BIGINT  NOT NULL CHECK (counted >= 0),
    over_short         BIGINT  NOT NULL CHECK (over_short = counted - expected),
    denominations      TEXT    NOT NULL,  -- JSON: [{"value": 10000, "pieces": 3}, …]
    counted_by         TEXT    NOT NULL,
    counted_at_ms      BIGINT  NOT NULL,
    note               TEXT,
    server_drawer_cash BIGINT  NOT NULL,
    recorded_at_ms     BIGINT  NOT NULL,
    PRIMARY KEY (terminal_id, day)
);

CREATE INDEX cash_counts_by_store_day ON cash_counts (merchant_id, day);

CREATE FUNCTION cash_counts_are_kept_as_sent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'a cash count is kept as sent'; END $$;
CREATE TRIGGER cash_counts_are_kept_as_sent BEFORE UPDATE OR DELETE ON cash_counts
FOR EACH ROW EXECUTE FUNCTION cash_counts_are_kept_as_sent();
