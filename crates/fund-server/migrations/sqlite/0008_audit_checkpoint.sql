-- The incremental audit: where the last passing audit stopped, and every account's balance
-- as the journal stood at that entry. The next audit verifies only the entries after it
-- and compares every stored balance with these plus what the new entries moved.
-- `audit --full` ignores both and replays the journal from its first entry.
CREATE TABLE audit_checkpoint (
    id            INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    sequence      INTEGER NOT NULL CHECK (sequence > 0),
    hash          BLOB    NOT NULL CHECK (length(hash) = 32),
    applied_at_ms INTEGER NOT NULL,
    audited_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_balances (
    key     TEXT    PRIMARY KEY NOT NULL,
    balance INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The incremental audit finds the payment and earlier refunds of an order it meets in a
-- refund (a top-up and its reversals are found by journal_by_outbox_entry).
CREATE INDEX journal_by_order ON journal_entries (order_id)
    WHERE order_id IS NOT NULL;
