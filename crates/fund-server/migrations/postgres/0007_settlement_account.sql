-- Where the platform pays a store its net of each closed day (the bank and account as the
-- operators write it); empty until set. Changed only by an approved proposal.
ALTER TABLE merchants ADD COLUMN settlement_account TEXT NOT NULL DEFAULT '';
