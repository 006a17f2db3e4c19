-- The platform's staff (issue 16): named operators with a role, an argon2id password and a
-- TOTP second factor; their sessions; and the trail of what they did, chained by hash.

CREATE TABLE operators (
    id                 TEXT    PRIMARY KEY,
    -- The sign-in name in its one spelling (lower case), unique.
    name               TEXT    NOT NULL UNIQUE,
    role               TEXT    NOT NULL
        CHECK (role IN ('viewer', 'operator', 'approver', 'administrator')),
    password_hash      TEXT    NOT NULL,
    -- Sealed with the server's secrets key, the operator id as associated data.
    totp_secret_sealed TEXT    NOT NULL,
    -- The last 30-second step whose code was accepted: a code is used once.
    totp_last_step     BIGINT,
    -- Wrong sign-ins in a row, and the lock they led to.
    failed_sign_ins    BIGINT  NOT NULL DEFAULT 0 CHECK (failed_sign_ins >= 0),
    locked_until_ms    BIGINT,
    -- 0 or 1, as in SQLite (the copy from SQLite moves integers, text and bytes).
    disabled           BIGINT  NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms      BIGINT  NOT NULL
);

CREATE TABLE operator_sessions (
    token_hash    BYTEA  PRIMARY KEY,
    operator_id   TEXT   NOT NULL REFERENCES operators (id),
    created_at_ms BIGINT NOT NULL,
    last_seen_ms  BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_by_expiry ON operator_sessions (expires_at_ms);

CREATE TABLE operator_trail (
    sequence      BIGINT PRIMARY KEY CHECK (sequence > 0),
    at_ms         BIGINT NOT NULL,
    operator_id   TEXT,
    operator_name TEXT   NOT NULL,
    source        TEXT   NOT NULL,
    action        TEXT   NOT NULL,
    subject       TEXT   NOT NULL,
    detail        TEXT   NOT NULL,
    outcome       TEXT   NOT NULL,
    previous_hash BYTEA  NOT NULL,
    hash          BYTEA  NOT NULL
);

CREATE INDEX operator_trail_by_operator ON operator_trail (operator_id, sequence);

-- The trail is append-only: no update, delete or truncate reaches it.
CREATE FUNCTION operator_trail_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the operator trail is append-only';
END
$$;

CREATE TRIGGER operator_trail_is_never_changed BEFORE UPDATE OR DELETE ON operator_trail
    FOR EACH ROW EXECUTE FUNCTION operator_trail_is_append_only();
CREATE TRIGGER operator_trail_is_never_truncated BEFORE TRUNCATE ON operator_trail
    FOR EACH STATEMENT EXECUTE FUNCTION operator_trail_is_append_only();

-- Four eyes: a change to money or its rules, proposed by one operator, applied only when
-- another approves it. `change` and `changes` are JSON (the wire's `ProposedChange` and
-- its before → after lines), kept as text so that SQLite's rows copy as they are.
CREATE TABLE proposals (
    id             TEXT   PRIMARY KEY,
    kind           TEXT   NOT NULL,
    change         TEXT   NOT NULL,
    note           TEXT   NOT NULL,
    proposer_id    TEXT   NOT NULL,
    proposer_name  TEXT   NOT NULL,
    proposed_at_ms BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    status         TEXT   NOT NULL CHECK (status IN
        ('pending', 'approved', 'applied', 'failed', 'rejected', 'withdrawn')),
    decider_id     TEXT,
    decider_name   TEXT,
    decided_at_ms  BIGINT,
    decision_note  TEXT,
    outcome        TEXT,
    changes        TEXT   NOT NULL,
    -- Four eyes, held by the database too: nobody approves their own proposal.
    CHECK (status NOT IN ('approved', 'applied', 'failed') OR decider_id <> proposer_id)
);

CREATE INDEX proposals_by_status ON proposals (status, proposed_at_ms);

-- What operators see of each counter: when it was last heard from (written at most once a
-- minute) and the app version it says it runs.
ALTER TABLE terminals ADD COLUMN last_seen_ms BIGINT;
ALTER TABLE terminals ADD COLUMN app_version TEXT;

-- An activation code an operator cancelled before it was used.
ALTER TABLE activation_codes ADD COLUMN cancelled_at_ms BIGINT;
