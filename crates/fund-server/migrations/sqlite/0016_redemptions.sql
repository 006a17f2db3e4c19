-- Redemptions (a wallet's principal and yield paid out as cash at a counter) in a day's
-- figures: how many, the cash the drawer paid out, the bonus clawed back with them. Days
-- closed before redemptions existed had none.
ALTER TABLE settlements ADD COLUMN redemption_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN redeemed_cash INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlements ADD COLUMN redeemed_bonus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlement_terminals ADD COLUMN redemption_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlement_terminals ADD COLUMN redeemed_cash INTEGER NOT NULL DEFAULT 0;
ALTER TABLE settlement_terminals ADD COLUMN redeemed_bonus INTEGER NOT NULL DEFAULT 0;
