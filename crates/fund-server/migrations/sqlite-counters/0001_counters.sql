-- The counters every request keeps on its way in, apart from the ledger's database so that
-- their one-row writes never wait behind a group commit for SQLite's single write lock.
-- Every process on the same files agrees on them, as on the ledger.

-- Nonces of signed counter requests, each accepted once per terminal while its timestamp
-- is inside the allowed clock skew; rows past `expires_at_ms` are purged.
CREATE TABLE request_nonces (
    terminal_id   TEXT    NOT NULL,
    nonce         TEXT    NOT NULL CHECK (length(nonce) = 32),
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (terminal_id, nonce)
) STRICT, WITHOUT ROWID;

CREATE INDEX request_nonces_by_expiry ON request_nonces (expires_at_ms);

-- Wrong PINs in a row per wallet, counted before each check; reaching the limit locks the
-- wallet until `locked_until_ms`. A right PIN deletes the row.
CREATE TABLE pin_attempts (
    customer_id     TEXT    PRIMARY KEY NOT NULL,
    failed_attempts INTEGER NOT NULL CHECK (failed_attempts >= 0),
    locked_until_ms INTEGER
) STRICT, WITHOUT ROWID;
