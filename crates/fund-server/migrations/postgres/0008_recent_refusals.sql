-- The dashboard lists the counters' entries refused in the last day (they wait in the
-- counter's "needs attention" list): read by time, not by key.
CREATE INDEX idempotency_by_time ON idempotency_records (created_at_ms);
