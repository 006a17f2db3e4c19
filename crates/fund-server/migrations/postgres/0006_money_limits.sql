-- The money limits operators change under four eyes, one row per version. The newest row
-- is what the ledger enforces; before the first, the limits the server was started with.
-- `source` names what set it (`proposal/<id>`), once: applying a proposal again adds nothing.
CREATE TABLE money_limits (
    version           BIGINT PRIMARY KEY CHECK (version > 0),
    wallet_cap        BIGINT NOT NULL CHECK (wallet_cap > 0),
    reserve_threshold BIGINT NOT NULL CHECK (reserve_threshold >= 0),
    reserve_refill    BIGINT NOT NULL CHECK (reserve_refill >= 0),
    source            TEXT   NOT NULL UNIQUE,
    set_at_ms         BIGINT NOT NULL
);

CREATE FUNCTION money_limits_are_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'money limits are kept as versions';
END;
$$;
CREATE TRIGGER money_limits_are_never_changed BEFORE UPDATE OR DELETE ON money_limits
    FOR EACH ROW EXECUTE FUNCTION money_limits_are_versions();
