-- A customer's confirmation of a redemption: after the PIN the wallet issues a one-time
-- code for a store and an amount, which a counter of that store keys in within ten minutes.
-- Only a hash of the digits is kept; `id` is also the ledger's idempotency key of the
-- redemption, so a code pays out once whatever the counter retries.
CREATE TABLE redemption_codes (
    id            TEXT    PRIMARY KEY NOT NULL,
    customer_id   TEXT    NOT NULL REFERENCES customers (id),
    merchant_id   TEXT    NOT NULL REFERENCES merchants (id),
    code_hash     TEXT    NOT NULL,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    issued_at_ms  INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL CHECK (expires_at_ms > issued_at_ms),
    used_at_ms    INTEGER
) STRICT;

CREATE INDEX redemption_codes_by_customer ON redemption_codes (customer_id, issued_at_ms);
