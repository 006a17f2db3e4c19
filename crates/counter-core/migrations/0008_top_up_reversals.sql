-- Top-ups a manager reversed at this counter (cash given back; online only: the server
-- checks what the top-up may still give back), counted in the day the server applied them.
CREATE TABLE top_up_reversals (
    reversal_id       TEXT    PRIMARY KEY NOT NULL,  -- also the idempotency key sent
    entry_id          TEXT    NOT NULL,              -- the top-up's outbox entry
    amount            INTEGER NOT NULL CHECK (amount > 0),
    bonus_clawed_back INTEGER NOT NULL CHECK (bonus_clawed_back >= 0),
    reversed_at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX top_up_reversals_by_day ON top_up_reversals (reversed_at_ms);

-- A reversal sent and not yet answered, with its key: resent under the same key (by the
-- manager pressing again, or the sync worker) so that the server reverses once. At most one
-- per top-up: a second reversal of the same top-up waits for the first to be answered.
CREATE TABLE reversal_attempts (
    entry_id      TEXT    PRIMARY KEY NOT NULL,
    reversal_id   TEXT    NOT NULL UNIQUE,
    amount        INTEGER NOT NULL CHECK (amount > 0),
    started_at_ms INTEGER NOT NULL
) STRICT;
