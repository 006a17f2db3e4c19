-- Refunds a manager made at this counter (online: the server checks the paid order).
CREATE TABLE refunds (
    refund_id      TEXT    PRIMARY KEY NOT NULL,  -- also the idempotency key sent
    order_id       TEXT    NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    refunded_at_ms INTEGER NOT NULL
) STRICT;
