-- Expired sessions are purged every hour (by every process): found by their expiry.
CREATE INDEX customer_sessions_by_expiry ON customer_sessions (expires_at_ms);
