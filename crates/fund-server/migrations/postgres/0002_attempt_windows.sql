-- Attempts counted per key in fixed windows: the rate limits of sign-in, sign-up, payment,
-- enrolment and the operator token, shared by every process on this database. The key is
-- a hash of the limit's scope and what it limits (an address, a phone number, a wallet),
-- never the value itself. Windows that ended are purged now and then.
CREATE TABLE attempt_windows (
    key               BYTEA  PRIMARY KEY CHECK (length(key) = 32),
    window_started_ms BIGINT NOT NULL,
    attempts          BIGINT NOT NULL CHECK (attempts > 0)
);

CREATE INDEX attempt_windows_by_start ON attempt_windows (window_started_ms);
