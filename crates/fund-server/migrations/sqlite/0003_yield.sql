-- Yield: the rate schedule, one row per accrued day, each wallet's accrual per day, and
-- each wallet's running total of accrued and posted yield.

CREATE TABLE yield_rates (
    effective_from TEXT    PRIMARY KEY NOT NULL,  -- YYYY-MM-DD
    annual_rate    TEXT    NOT NULL,              -- decimal, 0.0365 for 3.65 %
    set_at_ms      INTEGER NOT NULL
) STRICT;

-- A day is accrued once: its row is written in the same transaction as its accruals.
CREATE TABLE yield_days (
    day              TEXT    PRIMARY KEY NOT NULL,
    -- End-of-day balances were taken as of this journal entry.
    through_sequence INTEGER NOT NULL,
    annual_rate      TEXT    NOT NULL,
    wallets          INTEGER NOT NULL,
    accrued_at_ms    INTEGER NOT NULL,
    posted_at_ms     INTEGER
) STRICT;

CREATE TABLE yield_accruals (
    customer_id TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    balance     INTEGER NOT NULL,
    accrued     TEXT    NOT NULL,  -- decimal minor units
    PRIMARY KEY (customer_id, day)
) STRICT, WITHOUT ROWID;

CREATE INDEX yield_accruals_by_day ON yield_accruals (day);

CREATE TABLE yield_positions (
    customer_id TEXT    PRIMARY KEY NOT NULL,
    cumulative  TEXT    NOT NULL,             -- decimal minor units accrued, all days
    posted      INTEGER NOT NULL DEFAULT 0    -- whole minor units posted so far
) STRICT, WITHOUT ROWID;
