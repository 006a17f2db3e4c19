-- A store's staff, kept on the server so that every counter of the store signs in the
-- same people (offline too, with the list it pulled). One row per member as they stand
-- now; `sequence` is the place of the member's latest change in one order of staff
-- changes, which counters pull by. The PIN is the counter's argon2id hash, never digits.
CREATE TABLE store_staff (
    merchant_id   TEXT    NOT NULL REFERENCES merchants (id),
    staff_id      TEXT    NOT NULL,  -- made by the counter that added the member
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('cashier', 'manager')),
    pin_hash      TEXT    NOT NULL,
    active        BIGINT  NOT NULL CHECK (active IN (0, 1)),
    sequence      BIGINT  NOT NULL UNIQUE CHECK (sequence > 0),
    changed_by    TEXT    NOT NULL REFERENCES terminals (id),
    changed_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (merchant_id, staff_id)
);

-- Names are unique in a store ignoring ASCII case, checked under the table's lock as on
-- SQLite (COLLATE NOCASE) and at the counter; the index holds them exactly.
CREATE UNIQUE INDEX store_staff_names ON store_staff (merchant_id, name);
CREATE INDEX store_staff_by_change ON store_staff (merchant_id, sequence);
