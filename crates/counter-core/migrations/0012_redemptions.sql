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

-- A payout sent whose answer has not arrived: the code is kept until it has (a resend of
-- the same code is answered with the same payout, never paid twice), then forgotten.
CREATE TABLE redemption_attempts (
    code          TEXT    PRIMARY KEY NOT NULL,
    customer_id   TEXT    NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    started_at_ms INTEGER NOT NULL,
    cashier_id    TEXT,
    cashier_name  TEXT
) STRICT;
