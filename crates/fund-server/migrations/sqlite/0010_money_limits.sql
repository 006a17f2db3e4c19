-- The money limits operators change under four eyes, one row per version. The newest row
-- is what the ledger enforces; before the first, the limits the server was started with.
-- `source` names what set it (`proposal/<id>`), once: applying a proposal again adds nothing.
CREATE TABLE money_limits (
    version           INTEGER PRIMARY KEY NOT NULL CHECK (version > 0),
    wallet_cap        INTEGER NOT NULL CHECK (wallet_cap > 0),
    reserve_threshold INTEGER NOT NULL CHECK (reserve_threshold >= 0),
    reserve_refill    INTEGER NOT NULL CHECK (reserve_refill >= 0),
    source            TEXT    NOT NULL UNIQUE,
    set_at_ms         INTEGER NOT NULL
) STRICT;

CREATE TRIGGER money_limits_are_never_updated BEFORE UPDATE ON money_limits
BEGIN SELECT RAISE(ABORT, 'money limits are kept as versions'); END;
CREATE TRIGGER money_limits_are_never_deleted BEFORE DELETE ON money_limits
BEGIN SELECT RAISE(ABORT, 'money limits are kept as versions'); END;
