-- A refund sent and not yet answered, with the key it was sent with. A lost answer leaves
-- it here; the next try (the manager pressing Refund again, or the sync worker) resends the
-- same key, so the server refunds once. At most one per order: a second refund of the same
-- order waits for the first to be answered.
CREATE TABLE refund_attempts (
    order_id      TEXT    PRIMARY KEY NOT NULL,
    refund_id     TEXT    NOT NULL UNIQUE,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    started_at_ms INTEGER NOT NULL
) STRICT;
