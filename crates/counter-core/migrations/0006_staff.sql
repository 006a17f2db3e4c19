-- The people who work this counter. A cashier sells and takes top-ups; a manager also
-- refunds, closes the day and manages staff. PINs are argon2id hashes, never the digits.
CREATE TABLE staff (
    staff_id        TEXT    PRIMARY KEY NOT NULL,  -- UUIDv7
    name            TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    role            TEXT    NOT NULL CHECK (role IN ('cashier', 'manager')),
    pin_hash        TEXT    NOT NULL,
    active          INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- Wrong PINs in a row; at the limit the member is locked until `locked_until_ms`.
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until_ms INTEGER,
    created_at_ms   INTEGER NOT NULL
) STRICT;
