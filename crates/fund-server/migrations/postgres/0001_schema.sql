-- The fund server's schema on PostgreSQL: the same tables as the SQLite migrations, in one
-- step (this backend starts here). Times are milliseconds since the Unix epoch (UTC); ids
-- are UUIDv7 text; amounts are BIGINT minor units; decimals (rates, accrued yield) are
-- text, exact, as rust_decimal writes them.

-- Parties.

CREATE TABLE merchants (
    id            TEXT   PRIMARY KEY,
    name          TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    time_zone     TEXT   NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE terminals (
    id                TEXT   PRIMARY KEY,
    merchant_id       TEXT   NOT NULL REFERENCES merchants (id),
    label             TEXT   NOT NULL CHECK (length(label) BETWEEN 1 AND 100),
    receipt_prefix    TEXT   NOT NULL UNIQUE CHECK (length(receipt_prefix) BETWEEN 1 AND 8),
    -- The terminal key, sealed with the server's secrets key (see vault.rs).
    secret            TEXT   NOT NULL,
    server_public_key TEXT,
    enrolled_at_ms    BIGINT NOT NULL,
    revoked_at_ms     BIGINT
);

CREATE INDEX terminals_by_merchant ON terminals (merchant_id);

CREATE TABLE customers (
    id            TEXT   PRIMARY KEY,
    phone         TEXT   NOT NULL UNIQUE,
    display_name  TEXT   NOT NULL CHECK (length(display_name) BETWEEN 1 AND 50),
    member_code   TEXT   NOT NULL UNIQUE,
    -- argon2id PHC string; the PIN itself is never stored.
    pin_hash      TEXT   NOT NULL,
    -- Kept for the same shape as SQLite, where an earlier version counted here; the
    -- counts live in pin_attempts.
    failed_pin_attempts BIGINT NOT NULL DEFAULT 0 CHECK (failed_pin_attempts >= 0),
    locked_until_ms     BIGINT,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE bindings (
    customer_id TEXT   NOT NULL REFERENCES customers (id),
    merchant_id TEXT   NOT NULL REFERENCES merchants (id),
    bound_at_ms BIGINT NOT NULL,
    PRIMARY KEY (customer_id, merchant_id)
);

CREATE INDEX bindings_by_merchant ON bindings (merchant_id);

-- Every bind and unbind, in commit order (writers take the parties lock, see
-- store/postgres/mod.rs): counters pull the changes since their cursor.
CREATE TABLE binding_changes (
    sequence      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id   TEXT   NOT NULL REFERENCES customers (id),
    merchant_id   TEXT   NOT NULL REFERENCES merchants (id),
    bound         BIGINT NOT NULL CHECK (bound IN (0, 1)),
    changed_at_ms BIGINT NOT NULL
);

CREATE INDEX binding_changes_by_merchant ON binding_changes (merchant_id, sequence);

CREATE TABLE activation_codes (
    code_hash     BYTEA  PRIMARY KEY,
    merchant_id   TEXT   NOT NULL REFERENCES merchants (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms    BIGINT,
    terminal_id   TEXT   REFERENCES terminals (id),
    enrol_key     TEXT
);

CREATE TABLE customer_sessions (
    token_hash    BYTEA  PRIMARY KEY,
    customer_id   TEXT   NOT NULL REFERENCES customers (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

-- Counters kept on the way in: request nonces, once per terminal, and wrong PINs in a row.

CREATE TABLE request_nonces (
    terminal_id   TEXT   NOT NULL,
    nonce         TEXT   NOT NULL CHECK (length(nonce) = 32),
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
);

CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_at_ms);

CREATE TABLE pin_attempts (
    customer_id     TEXT   PRIMARY KEY,
    failed_attempts BIGINT NOT NULL CHECK (failed_attempts >= 0),
    locked_until_ms BIGINT
);

-- The double-entry ledger.

CREATE TABLE accounts (
    key     TEXT   PRIMARY KEY,
    balance BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    -- The guard, again at the lowest level: only the world account may go negative.
    CHECK (key = 'world' OR balance >= 0)
);

CREATE TABLE journal_entries (
    sequence        BIGINT PRIMARY KEY CHECK (sequence > 0),
    applied_at_ms   BIGINT NOT NULL,
    code            TEXT   NOT NULL,
    recorded_at_ms  BIGINT NOT NULL,
    merchant_id     TEXT,
    terminal_id     TEXT,
    order_id        TEXT,
    outbox_entry_id TEXT,
    customer_id     TEXT,
    business_day    TEXT,
    previous_hash   BYTEA  NOT NULL CHECK (octet_length(previous_hash) = 32),
    hash            BYTEA  NOT NULL CHECK (octet_length(hash) = 32)
);

CREATE INDEX journal_by_applied_at ON journal_entries (applied_at_ms);
CREATE INDEX journal_by_outbox_entry ON journal_entries (outbox_entry_id)
    WHERE outbox_entry_id IS NOT NULL;
CREATE INDEX journal_by_customer ON journal_entries (customer_id, sequence)
    WHERE customer_id IS NOT NULL;
CREATE INDEX journal_by_merchant ON journal_entries (merchant_id, recorded_at_ms)
    WHERE merchant_id IS NOT NULL;

CREATE TABLE transfers (
    entry_sequence BIGINT NOT NULL REFERENCES journal_entries (sequence),
    position       BIGINT NOT NULL,
    from_account   TEXT   NOT NULL,
    to_account     TEXT   NOT NULL CHECK (to_account <> from_account),
    amount         BIGINT NOT NULL CHECK (amount > 0),
    code           TEXT   NOT NULL,
    PRIMARY KEY (entry_sequence, position)
);

-- The journal is append-only: no update, delete or truncate reaches it.
CREATE FUNCTION journal_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the journal is append-only';
END
$$;

CREATE TRIGGER journal_entries_are_never_changed BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();
CREATE TRIGGER journal_entries_are_never_truncated BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_is_append_only();
CREATE TRIGGER transfers_are_never_changed BEFORE UPDATE OR DELETE ON transfers
    FOR EACH ROW EXECUTE FUNCTION journal_is_append_only();
CREATE TRIGGER transfers_are_never_truncated BEFORE TRUNCATE ON transfers
    FOR EACH STATEMENT EXECUTE FUNCTION journal_is_append_only();

-- The hash chain, held by the database too: an entry follows the last one without a gap
-- and names its hash, so two writers can never both extend the same head.
CREATE FUNCTION journal_entry_extends_the_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head journal_entries%ROWTYPE;
BEGIN
    SELECT * INTO head FROM journal_entries ORDER BY sequence DESC LIMIT 1;
    IF head.sequence IS NULL THEN
        IF NEW.sequence <> 1 OR NEW.previous_hash <> decode(repeat('00', 32), 'hex') THEN
            RAISE EXCEPTION 'the first journal entry is number 1 after the genesis hash';
        END IF;
    ELSIF NEW.sequence <> head.sequence + 1 OR NEW.previous_hash <> head.hash THEN
        RAISE EXCEPTION 'journal entry % does not extend entry %', NEW.sequence, head.sequence;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER journal_entries_extend_the_chain BEFORE INSERT ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entry_extends_the_chain();

CREATE TABLE idempotency_records (
    key           TEXT   PRIMARY KEY,
    fingerprint   BYTEA  NOT NULL CHECK (octet_length(fingerprint) = 32),
    outcome       TEXT   NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- Orders are (terminal, order id): another store's counter that copies an id off a QR
-- code can never mark the real order paid.
CREATE TABLE paid_orders (
    order_id           TEXT   NOT NULL,
    merchant_id        TEXT   NOT NULL,
    terminal_id        TEXT   NOT NULL,
    customer_id        TEXT   NOT NULL,
    amount             BIGINT NOT NULL CHECK (amount > 0),
    paid_principal     BIGINT NOT NULL CHECK (paid_principal >= 0),
    paid_bonus         BIGINT NOT NULL CHECK (paid_bonus >= 0),
    paid_yield         BIGINT NOT NULL CHECK (paid_yield >= 0),
    refunded_principal BIGINT NOT NULL DEFAULT 0,
    refunded_bonus     BIGINT NOT NULL DEFAULT 0,
    refunded_yield     BIGINT NOT NULL DEFAULT 0,
    payment_entry      BIGINT NOT NULL REFERENCES journal_entries (sequence),
    paid_at_ms         BIGINT NOT NULL,
    CHECK (paid_principal + paid_bonus + paid_yield = amount),
    CHECK (refunded_principal BETWEEN 0 AND paid_principal),
    CHECK (refunded_bonus BETWEEN 0 AND paid_bonus),
    CHECK (refunded_yield BETWEEN 0 AND paid_yield),
    PRIMARY KEY (terminal_id, order_id)
);

CREATE INDEX paid_orders_by_merchant ON paid_orders (merchant_id, paid_at_ms);
CREATE INDEX paid_orders_by_order ON paid_orders (order_id);
CREATE INDEX paid_orders_by_payment_entry ON paid_orders (merchant_id, payment_entry);

CREATE TABLE bonus_rule_sets (
    version          BIGINT PRIMARY KEY CHECK (version > 0),
    rules            TEXT   NOT NULL,
    published_at_ms  BIGINT NOT NULL,
    superseded_at_ms BIGINT
);

CREATE TABLE ledger_alerts (
    name         TEXT   PRIMARY KEY,
    message      TEXT   NOT NULL,
    raised_at_ms BIGINT NOT NULL
);

-- Yield.

CREATE TABLE yield_rates (
    effective_from TEXT   PRIMARY KEY,
    annual_rate    TEXT   NOT NULL,
    set_at_ms      BIGINT NOT NULL
);

CREATE TABLE yield_days (
    day              TEXT   PRIMARY KEY,
    through_sequence BIGINT NOT NULL,
    annual_rate      TEXT   NOT NULL,
    wallets          BIGINT NOT NULL,
    accrued_at_ms    BIGINT NOT NULL,
    posted_at_ms     BIGINT
);

CREATE TABLE yield_accruals (
    customer_id TEXT   NOT NULL,
    day         TEXT   NOT NULL,
    balance     BIGINT NOT NULL,
    accrued     TEXT   NOT NULL,
    PRIMARY KEY (customer_id, day)
);

CREATE INDEX yield_accruals_by_day ON yield_accruals (day);

CREATE TABLE yield_positions (
    customer_id TEXT   PRIMARY KEY,
    cumulative  TEXT   NOT NULL,
    posted      BIGINT NOT NULL DEFAULT 0
);

-- Settlement.

CREATE TABLE settlements (
    merchant_id    TEXT   NOT NULL,
    day            TEXT   NOT NULL,
    entry_sequence BIGINT REFERENCES journal_entries (sequence),
    top_up_count   BIGINT NOT NULL,
    cash           BIGINT NOT NULL,
    bonus          BIGINT NOT NULL,
    payment_count  BIGINT NOT NULL,
    payments       BIGINT NOT NULL,
    refund_count   BIGINT NOT NULL,
    refunds        BIGINT NOT NULL,
    reversal_count BIGINT NOT NULL,
    reversed_cash  BIGINT NOT NULL,
    reversed_bonus BIGINT NOT NULL,
    closed_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day)
);

CREATE TABLE settlement_terminals (
    merchant_id    TEXT   NOT NULL,
    day            TEXT   NOT NULL,
    terminal_id    TEXT   NOT NULL,
    top_up_count   BIGINT NOT NULL,
    cash           BIGINT NOT NULL,
    bonus          BIGINT NOT NULL,
    payment_count  BIGINT NOT NULL,
    payments       BIGINT NOT NULL,
    refund_count   BIGINT NOT NULL,
    refunds        BIGINT NOT NULL,
    reversal_count BIGINT NOT NULL,
    reversed_cash  BIGINT NOT NULL,
    reversed_bonus BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day, terminal_id)
);

CREATE TABLE settled_entries (
    entry_sequence BIGINT PRIMARY KEY REFERENCES journal_entries (sequence),
    merchant_id    TEXT   NOT NULL,
    day            TEXT   NOT NULL
);
