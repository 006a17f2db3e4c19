-- The counter's local truth. It keeps working with no network: what the server must learn
-- of is written to the outbox in the same transaction as the action itself.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- Customers bound to this store, as the server's binding changes said.
CREATE TABLE customers (
    customer_id  TEXT    PRIMARY KEY NOT NULL,
    phone        TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    member_code  TEXT    NOT NULL,
    bound        INTEGER NOT NULL CHECK (bound IN (0, 1)),
    -- The server's binding-change sequence this row reflects.
    changed_sequence INTEGER NOT NULL
) STRICT;

CREATE INDEX customers_by_phone ON customers (phone);
CREATE INDEX customers_by_member_code ON customers (member_code);

-- The bonus rule set in force, as last pulled (one row).
CREATE TABLE bonus_rules (
    version       INTEGER PRIMARY KEY NOT NULL,
    rule_set      TEXT    NOT NULL,
    fetched_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE top_ups (
    entry_id       TEXT    PRIMARY KEY NOT NULL,
    receipt_number TEXT    NOT NULL UNIQUE,
    customer_id    TEXT    NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    bonus_shown    INTEGER NOT NULL CHECK (bonus_shown >= 0),
    rule_version   INTEGER,
    recorded_at_ms INTEGER NOT NULL,
    -- pending until the server answers; then confirmed or rejected (with its reason).
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    status_code    TEXT,
    status_message TEXT
) STRICT;

-- Everything the server must learn of, in order. `sequence` is gap-free per terminal.
CREATE TABLE outbox (
    sequence       INTEGER PRIMARY KEY NOT NULL CHECK (sequence > 0),
    entry_id       TEXT    NOT NULL UNIQUE,
    payload        TEXT    NOT NULL,  -- the OutboxEntry as sent, byte for byte on every retry
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'acknowledged', 'needs_attention')),
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    created_at_ms  INTEGER NOT NULL,
    answered_at_ms INTEGER
) STRICT;

CREATE INDEX outbox_pending ON outbox (state, sequence);
