-- Trust boundaries: enrolment by key agreement, signed requests used once, ids scoped to
-- the counter that made them.

-- The server's public half of the enrolment key agreement. A counter whose answer was lost
-- asks again with the same public key and gets this back; the key itself is never sent.
-- `secret` holds the terminal key sealed with the server's secrets key (see vault.rs).
ALTER TABLE terminals ADD COLUMN server_public_key TEXT;

-- Request nonces and PIN attempt counts live in the counters database (fund.counters.sqlite,
-- migrations/sqlite-counters/): their one-row writes must not wait behind the ledger's
-- group commit for SQLite's one write lock.

-- Order ids are made by counters: an order is (terminal, order id), so another store's
-- counter that copies an id off a QR code can never mark the real order paid.
CREATE TABLE paid_orders_by_terminal (
    order_id           TEXT    NOT NULL,
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
    CHECK (refunded_yield BETWEEN 0 AND paid_yield),
    PRIMARY KEY (terminal_id, order_id)
) STRICT, WITHOUT ROWID;

INSERT INTO paid_orders_by_terminal SELECT
    order_id, merchant_id, terminal_id, customer_id, amount, paid_principal, paid_bonus,
    paid_yield, refunded_principal, refunded_bonus, refunded_yield, payment_entry, paid_at_ms
FROM paid_orders;
DROP TABLE paid_orders;
ALTER TABLE paid_orders_by_terminal RENAME TO paid_orders;
CREATE INDEX paid_orders_by_merchant ON paid_orders (merchant_id, paid_at_ms);
CREATE INDEX paid_orders_by_order ON paid_orders (order_id);
