-- Wallets paid out as cash at this counter (a manager's act, online only, against the
-- customer's one-time code). `entry_sequence` is the server's journal entry: the same
-- answer applied twice keeps one row. Amounts in minor units; `redeemed_at_ms` is the
-- server's time, the day both sides count it in.
CREATE TABLE redemptions (
    entry_sequence    INTEGER PRIMARY KEY NOT NULL,
    customer_id       TEXT    NOT NULL,
    cash              INTEGER NOT NULL CHECK (cash > 0),
    principal         INTEGER NOT NULL CHECK (principal >= 0),
    yield_paid        INTEGER NOT NULL CHECK (yield_paid >= 0),
    bonus_clawed_back INTEGER NOT NULL CHECK (bonus_clawed_back >= 0),
    redeemed_at_ms    INTEGER NOT NULL,
    cashier_id        TEXT,
    cashier_name      TEXT
) STRICT;
CREATE INDEX redemptions_by_day ON redemptions (redeemed_at_ms);

-- A press of Pay out whose answer has not arrived, under its own attempt id: the manager
-- pressing again with the same code sends the same attempt (answered with the same payout,
-- never paid twice); the sync worker and the close only ask about it (the customer may
-- have left without the cash), and an attempt the server never made is then dropped.
CREATE TABLE redemption_attempts (
    attempt_id    TEXT    PRIMARY KEY NOT NULL,
    code          TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    started_at_ms INTEGER NOT NULL,
    cashier_id    TEXT,
    cashier_name  TEXT
) STRICT;
