-- Who did it at the counter: the member of the store's staff signed in when a top-up,
-- refund, reversal or redemption was made or a day closed, as the counter sent it. Kept beside the
-- ledger (not in it: who pressed the key moves no money), once per record: a retry that
-- names someone else changes nothing. The member's name is read from `store_staff` of the
-- same store, so a counter cannot put another store's staff on its records.
CREATE TABLE cashier_records (
    terminal_id    TEXT    NOT NULL REFERENCES terminals (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('top_up', 'refund', 'reversal', 'redemption', 'close')),
    -- The outbox entry id, the refund's or reversal's key, the redemption code's id, or
    -- the closed day.
    record_id      TEXT    NOT NULL,
    merchant_id    TEXT    NOT NULL REFERENCES merchants (id),
    staff_id       TEXT    NOT NULL,
    -- Minor units the record moved (cash taken, refunded, given back); 0 for a close.
    amount         BIGINT  NOT NULL CHECK (amount >= 0),
    -- When it counts: the entry's recorded time, or the server's time of the action.
    recorded_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (terminal_id, kind, record_id)
);

CREATE INDEX cashier_records_by_day ON cashier_records (merchant_id, recorded_at_ms);
