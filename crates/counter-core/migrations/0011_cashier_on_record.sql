-- Who did it: the member signed in at the counter, by id (as sent to the server) and by
-- name as it was then (a receipt printed again, or the shift report of a day long closed,
-- still reads the name after the member is renamed or leaves). NULL on rows from before
-- staff were on record, and from tools that act without anyone signed in.
ALTER TABLE top_ups ADD COLUMN cashier_id TEXT;
ALTER TABLE top_ups ADD COLUMN cashier_name TEXT;
ALTER TABLE orders ADD COLUMN cashier_id TEXT;
ALTER TABLE orders ADD COLUMN cashier_name TEXT;
ALTER TABLE refund_attempts ADD COLUMN cashier_id TEXT;
ALTER TABLE refund_attempts ADD COLUMN cashier_name TEXT;
ALTER TABLE refunds ADD COLUMN cashier_id TEXT;
ALTER TABLE refunds ADD COLUMN cashier_name TEXT;
ALTER TABLE reversal_attempts ADD COLUMN cashier_id TEXT;
ALTER TABLE reversal_attempts ADD COLUMN cashier_name TEXT;
ALTER TABLE top_up_reversals ADD COLUMN cashier_id TEXT;
ALTER TABLE top_up_reversals ADD COLUMN cashier_name TEXT;
ALTER TABLE closed_days ADD COLUMN closed_by_id TEXT;
ALTER TABLE closed_days ADD COLUMN closed_by_name TEXT;
