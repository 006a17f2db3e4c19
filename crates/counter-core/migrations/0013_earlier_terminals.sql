-- The terminals this counter was before it enrolled again, each with the receipt prefix
-- that starts every receipt number it gave: a top-up taken under one of them is keyed by
-- that terminal on the server, and the counter names it when it reverses the top-up at
-- the same store. Never a key: the old terminal is revoked and its key was overwritten.
-- Prefixes are unique per fund server only (each numbers its own), hence the key.
CREATE TABLE earlier_terminals (
    server_url     TEXT    NOT NULL,
    receipt_prefix TEXT    NOT NULL,
    terminal_id    TEXT    NOT NULL UNIQUE,
    merchant_id    TEXT    NOT NULL,
    replaced_at_ms INTEGER NOT NULL,
    PRIMARY KEY (server_url, receipt_prefix)
) STRICT;
