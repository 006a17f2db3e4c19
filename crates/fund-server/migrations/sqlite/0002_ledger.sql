-- The double-entry ledger. Amounts are integer minor units; account keys are
-- 'world', 'reserve', 'service', 'drawer/<merchant>', 'customer/<customer>/<bucket>'.

-- Current balance of every account that was ever touched. Derived from the journal (the
-- audit replays it), kept here so that a write reads one row, not the history.
CREATE TABLE accounts (
    key     TEXT    PRIMARY KEY NOT NULL,
    balance INTEGER NOT NULL,
    -- How many batches changed this balance; lets readers see a balance moved.
    version INTEGER NOT NULL DEFAULT 1,
    -- The guard, again at the lowest level: only the world account may go negative.
    CHECK (key = 'world' OR balance >= 0)
) STRICT, WITHOUT ROWID;

-- One row per operation, append-only, chained by hash.
CREATE TABLE journal_entries (
    sequence        INTEGER PRIMARY KEY NOT NULL CHECK (sequence > 0),
    -- Server time of the write; never decreases along the sequence.
    applied_at_ms   INTEGER NOT NULL,
    code            TEXT    NOT NULL,
    recorded_at_ms  INTEGER NOT NULL,
    merchant_id     TEXT,
    terminal_id     TEXT,
    order_id        TEXT,
    outbox_entry_id TEXT,
    customer_id     TEXT,
    business_day    TEXT,
    previous_hash   BLOB    NOT NULL CHECK (length(previous_hash) = 32),
    hash            BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

CREATE INDEX journal_by_applied_at ON journal_entries (applied_at_ms);
CREATE INDEX journal_by_outbox_entry ON journal_entries (outbox_entry_id)
    WHERE outbox_entry_id IS NOT NULL;
CREATE INDEX journal_by_customer ON journal_entries (customer_id, sequence)
    WHERE customer_id IS NOT NULL;
CREATE INDEX journal_by_merchant ON journal_entries (merchant_id, recorded_at_ms)
    WHERE merchant_id IS NOT NULL;

CREATE TABLE transfers (
    entry_sequence INTEGER NOT NULL REFERENCES journal_entries (sequence),
    position       INTEGER NOT NULL,
    from_account   TEXT    NOT NULL,
    to_account     TEXT    NOT NULL CHECK (to_account <> from_account),
    amount         INTEGER NOT NULL CHECK (amount > 0),
    code           TEXT    NOT NULL,
    PRIMARY KEY (entry_sequence, position)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER journal_entries_are_never_updated BEFORE UPDATE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_entries_are_never_deleted BEFORE DELETE ON journal_entries
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER transfers_are_never_updated BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER transfers_are_never_deleted BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

-- The first answer to every idempotency key, and a fingerprint of the request it answered.
CREATE TABLE idempotency_records (
    key           TEXT    PRIMARY KEY NOT NULL,
    fingerprint   BLOB    NOT NULL CHECK (length(fingerprint) = 32),
    outcome       TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Paid orders: single use, and what refunds may still give back, per wallet bucket.
CREATE TABLE paid_orders (
    order_id           TEXT    PRIMARY KEY NOT NULL,
    merchant_id        TEXT    NOT NULL,
    terminal_id        TEXT    NOT NULL,
    customer_id        TEXT    NOT NULL,
    amount             INTEGER NOT NULL CHECK (amount > 0),
    paid_principal     INTEGER NOT NULL CHECK (paid_principal >= 0),
    paid_bonus         INTEGER NOT NULL CHECK (paid_bonus >= 0),
    paid_yield         INTEGER NOT NULL CHECK (paid_yield >= 0),
    refunded_principal INTEGER NOT NULL DEFAULT 0,
    refunded_bonus     INTEGER NOT NULL DEFAULT 0,
    refunded_yield     INTEGER NOT NULL DEFAULT 0,
    payment_entry      INTEGER NOT NULL REFERENCES journal_entries (sequence),
    paid_at_ms         INTEGER NOT NULL,
    CHECK (paid_principal + paid_bonus + paid_yield = amount),
    CHECK (refunded_principal BETWEEN 0 AND paid_principal),
    CHECK (refunded_bonus BETWEEN 0 AND paid_bonus),
    CHECK (refunded_yield BETWEEN 0 AND paid_yield)
) STRICT, WITHOUT ROWID;

CREATE INDEX paid_orders_by_merchant ON paid_orders (merchant_id, paid_at_ms);

-- Published bonus rule sets; a version never changes once published.
CREATE TABLE bonus_rule_sets (
    version          INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
    rules            TEXT    NOT NULL,
    published_at_ms  INTEGER NOT NULL,
    superseded_at_ms INTEGER
) STRICT;

-- Conditions the operator must see, such as a reserve the service account cannot refill.
CREATE TABLE ledger_alerts (
    name          TEXT    PRIMARY KEY NOT NULL,
    message       TEXT    NOT NULL,
    raised_at_ms  INTEGER NOT NULL
) STRICT;
