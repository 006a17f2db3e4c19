-- Payment orders made at this counter: the QR code's token, and what became of it.
CREATE TABLE orders (
    order_id       TEXT    PRIMARY KEY NOT NULL,
    receipt_number TEXT    NOT NULL UNIQUE,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    token          TEXT    NOT NULL,
    created_at_ms  INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    -- created until paid or cancelled; an unpaid order past its expiry is expired.
    status         TEXT    NOT NULL CHECK (status IN ('created', 'paid', 'cancelled')),
    paid_at_ms     INTEGER,
    -- 'server' when the server said so; 'code' when the cashier checked the customer's
    -- confirmation code offline.
    paid_by        TEXT    CHECK (paid_by IN ('server', 'code'))
) STRICT;

CREATE INDEX orders_by_created ON orders (created_at_ms);
