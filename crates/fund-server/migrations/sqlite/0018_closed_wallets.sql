-- Closing a wallet: everything payable is paid out at a store against a code that closes
-- it (`closes_wallet`); then the wallet is unbound everywhere, its sessions end and it
-- signs in no more (`closed_at_ms`). Its journal stays, as every journal does.
ALTER TABLE customers ADD COLUMN closed_at_ms INTEGER;
ALTER TABLE redemption_codes ADD COLUMN closes_wallet INTEGER NOT NULL DEFAULT 0
    CHECK (closes_wallet IN (0, 1));
-- The counter's attempt (terminal/attempt id) that holds the code: one attempt at a time
-- may pay a code out, so two presses or two counters can never both pay it. Released when
-- the ledger refuses the attempt; kept once it paid.
ALTER TABLE redemption_codes ADD COLUMN claimed_by TEXT;
