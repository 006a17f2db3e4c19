-- Merchant day settlement: what each close covered, and which entries it settled, so that
-- no entry is ever settled twice and a late entry is settled by the next close.

CREATE TABLE settlements (
    merchant_id    TEXT    NOT NULL,
    day            TEXT    NOT NULL,  -- YYYY-MM-DD in the merchant's time zone
    -- The journal entry that moved the money; NULL when there was nothing to move.
    entry_sequence INTEGER REFERENCES journal_entries (sequence),
    top_up_count   INTEGER NOT NULL,
    cash           INTEGER NOT NULL,
    bonus          INTEGER NOT NULL,
    payment_count  INTEGER NOT NULL,
    payments       INTEGER NOT NULL,
    refund_count   INTEGER NOT NULL,
    refunds        INTEGER NOT NULL,
    reversal_count INTEGER NOT NULL,
    reversed_cash  INTEGER NOT NULL,
    reversed_bonus INTEGER NOT NULL,
    closed_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, day)
) STRICT, WITHOUT ROWID;

-- The same figures per counter, so each counter can match its own records.
CREATE TABLE settlement_terminals (
    merchant_id    TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    terminal_id    TEXT    NOT NULL,
    top_up_count   INTEGER NOT NULL,
    cash           INTEGER NOT NULL,
    bonus          INTEGER NOT NULL,
    payment_count  INTEGER NOT NULL,
    payments       INTEGER NOT NULL,
    refund_count   INTEGER NOT NULL,
    refunds        INTEGER NOT NULL,
    reversal_count INTEGER NOT NULL,
    reversed_cash  INTEGER NOT NULL,
    reversed_bonus INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, day, terminal_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE settled_entries (
    entry_sequence INTEGER PRIMARY KEY NOT NULL REFERENCES journal_entries (sequence),
    merchant_id    TEXT    NOT NULL,
    day            TEXT    NOT NULL
) STRICT;
