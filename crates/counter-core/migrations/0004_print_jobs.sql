-- Receipts sent to the printer. A reprint is a new job of the same receipt, marked COPY.
CREATE TABLE print_jobs (
    job_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt       TEXT    NOT NULL,  -- the Receipt as JSON, so a reprint is byte-identical but for COPY
    copy_of       INTEGER REFERENCES print_jobs (job_id),
    state         TEXT    NOT NULL CHECK (state IN ('queued', 'printed', 'failed')),
    error         TEXT,
    created_at_ms INTEGER NOT NULL,
    printed_at_ms INTEGER
) STRICT;
