-- Closing a wallet: everything payable is paid out at a store against a code that closes
-- it (`closes_wallet`); then the wallet is unbound everywhere, its sessions end and it
-- signs in no more (`closed_at_ms`). Its journal stays, as every journal does.
ALTER TABLE customers ADD COLUMN closed_at_ms BIGINT;
ALTER TABLE redemption_codes ADD COLUMN closes_wallet BIGINT NOT NULL DEFAULT 0
    CHECK (closes_wallet IN (0, 1));
