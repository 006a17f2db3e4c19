-- The platform's staff (issue 16): named operators with a role, an argon2id password and a
-- TOTP second factor; their sessions; and the trail of what they did, chained by hash.

CREATE TABLE operators (
    id                 TEXT    PRIMARY KEY NOT NULL,
    -- The sign-in name in its one spelling (lower case), unique.
    name               TEXT    NOT NULL UNIQUE,
    role               TEXT    NOT NULL
        CHECK (role IN ('viewer', 'operator', 'approver', 'administrator')),
    password_hash      TEXT    NOT NULL,
    -- Sealed with the server's secrets key, the operator id as associated data.
    totp_secret_sealed TEXT    NOT NULL,
    -- The last 30-second step whose code was accepted: a code is used once.
    totp_last_step     INTEGER,
    -- Wrong sign-ins in a row, and the lock they led to.
    failed_sign_ins    INTEGER NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    locked_until_ms    INTEGER,
    disabled           INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms      INTEGER NOT NULL
) STRICT;

CREATE TABLE operator_sessions (
    token_hash    BLOB    PRIMARY KEY NOT NULL,
    operator_id   TEXT    NOT NULL REFERENCES operators (id),
    created_at_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at_ms);

CREATE TABLE operator_trail (
    sequence      INTEGER PRIMARY KEY NOT NULL CHECK (sequence > 0),
    at_ms         INTEGER NOT NULL,
    operator_id   TEXT,
    operator_name TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    detail        TEXT    NOT NULL,
    outcome       TEXT    NOT NULL,
    previous_hash BLOB    NOT NULL,
    hash          BLOB    NOT NULL
) STRICT;

CREATE INDEX operator_trail_by_operator ON operator_trail (operator_id, sequence);

-- The trail is append-only: the database refuses to change or remove a record.
CREATE TRIGGER operator_trail_is_never_updated BEFORE UPDATE ON operator_trail
BEGIN
    SELECT RAISE(ABORT, 'the operator trail is append-only');
END;

CREATE TRIGGER operator_trail_is_never_deleted BEFORE DELETE ON operator_trail
BEGIN
    SELECT RAISE(ABORT, 'the operator trail is append-only');
END;

-- Four eyes: a change to money or its rules, proposed by one operator, applied only when
-- another approves it. `change` and `changes` are JSON (the wire's `ProposedChange` and
-- its before → after lines).
CREATE TABLE proposals (
    id             TEXT    PRIMARY KEY NOT NULL,
    kind           TEXT    NOT NULL,
    change         TEXT    NOT NULL,
    note           TEXT    NOT NULL,
    proposer_id    TEXT    NOT NULL,
    proposer_name  TEXT    NOT NULL,
    proposed_at_ms INTEGER NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN
        ('pending', 'approved', 'applied', 'failed', 'rejected', 'withdrawn')),
    decider_id     TEXT,
    decider_name   TEXT,
    decided_at_ms  INTEGER,
    decision_note  TEXT,
    outcome        TEXT,
    changes        TEXT    NOT NULL,
    -- Four eyes, held by the database too: nobody approves their own proposal.
    CHECK (status NOT IN ('approved', 'applied', 'failed') OR decider_id <> proposer_id)
) STRICT;

CREATE INDEX proposals_by_status ON proposals (status, proposed_at_ms);

-- What operators see of each counter: when it was last heard from (written at most once a
-- minute) and the app version it says it runs.
ALTER TABLE terminals ADD COLUMN last_seen_ms INTEGER;
ALTER TABLE terminals ADD COLUMN app_version TEXT;

-- An activation code an operator cancelled before it was used.
ALTER TABLE activation_codes ADD COLUMN cancelled_at_ms INTEGER;
