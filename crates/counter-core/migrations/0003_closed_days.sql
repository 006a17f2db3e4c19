-- Days the manager closed at this counter: the figures as printed on the Z-report.
CREATE TABLE closed_days (
    day          TEXT    PRIMARY KEY NOT NULL,  -- YYYY-MM-DD in the store's time zone
    report       TEXT    NOT NULL,              -- the DayReport as JSON
    closed_at_ms INTEGER NOT NULL
) STRICT;
