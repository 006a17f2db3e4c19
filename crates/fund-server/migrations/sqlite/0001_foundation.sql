-- Foundation: the parties of the product. The ledger arrives in later migrations.
-- Times are milliseconds since the Unix epoch (UTC); ids are UUIDv7 text.

CREATE TABLE merchants (
    id            TEXT    PRIMARY KEY NOT NULL,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- IANA zone name: a merchant's business day is settled in its own time zone.
    time_zone     TEXT    NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE terminals (
    id             TEXT    PRIMARY KEY NOT NULL,
    merchant_id    TEXT    NOT NULL REFERENCES merchants (id),
    label          TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    -- Prefix of this counter's receipt and order numbers, so offline counters never collide.
    receipt_prefix TEXT    NOT NULL UNIQUE CHECK (length(receipt_prefix) BETWEEN 1 AND 8),
    -- The key the terminal signs requests with; the server needs it to check signatures.
    secret         TEXT    NOT NULL,
    enrolled_at_ms INTEGER NOT NULL,
    revoked_at_ms  INTEGER
) STRICT;

CREATE INDEX terminals_by_merchant ON terminals (merchant_id);

CREATE TABLE customers (
    id            TEXT    PRIMARY KEY NOT NULL,
    phone         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 50),
    -- Shown on the wallet page for the cashier to scan or type.
    member_code   TEXT    NOT NULL UNIQUE,
    -- argon2id PHC string; the PIN itself is never stored.
    pin_hash      TEXT    NOT NULL,
    -- Wrong PINs in a row; reaching the limit locks the wallet until locked_until_ms.
    failed_pin_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_pin_attempts >= 0),
    locked_until_ms     INTEGER,
    created_at_ms INTEGER NOT NULL
) STRICT;

-- A binding allows top-ups and payments of that customer at that merchant.
CREATE TABLE bindings (
    customer_id TEXT    NOT NULL REFERENCES customers (id),
    merchant_id TEXT    NOT NULL REFERENCES merchants (id),
    bound_at_ms INTEGER NOT NULL,
    PRIMARY KEY (customer_id, merchant_id)
) STRICT;

CREATE INDEX bindings_by_merchant ON bindings (merchant_id);

-- Every bind and unbind, in order: counters pull the changes since their cursor.
CREATE TABLE binding_changes (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT    NOT NULL REFERENCES customers (id),
    merchant_id TEXT    NOT NULL REFERENCES merchants (id),
    bound       INTEGER NOT NULL CHECK (bound IN (0, 1)),
    changed_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX binding_changes_by_merchant ON binding_changes (merchant_id, sequence);

-- One-time codes an operator gives a store to enrol a counter. Only a hash is kept.
CREATE TABLE activation_codes (
    code_hash     BLOB    PRIMARY KEY NOT NULL,
    merchant_id   TEXT    NOT NULL REFERENCES merchants (id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms    INTEGER,
    terminal_id   TEXT    REFERENCES terminals (id),
    -- The enrolling counter's idempotency key: its retry gets the same enrolment back.
    enrol_key     TEXT
) STRICT;

-- Signed-in customers. Only a hash of the bearer token is kept.
CREATE TABLE customer_sessions (
    token_hash    BLOB    PRIMARY KEY NOT NULL,
    customer_id   TEXT    NOT NULL REFERENCES customers (id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;
