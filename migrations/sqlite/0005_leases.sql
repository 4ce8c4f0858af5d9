-- Workers: one row per crawler process that crawled (on SQLite, one at a
-- time). heartbeat_at is renewed with its host leases.
CREATE TABLE workers (
    id            INTEGER PRIMARY KEY,
    hostname      TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    lease_ms      INTEGER NOT NULL,
    stopped_at    INTEGER,
    hosts_held    INTEGER NOT NULL DEFAULT 0,
    pages         INTEGER NOT NULL DEFAULT 0
);

-- Host leases, as on PostgreSQL: the same protocol in one process, on the
-- local clock (unix ms). The last token handed out is kept in
-- lease_tokens, so a token is never given twice.
ALTER TABLE hosts ADD COLUMN lease_owner INTEGER;
ALTER TABLE hosts ADD COLUMN lease_token INTEGER;
ALTER TABLE hosts ADD COLUMN lease_until INTEGER;
CREATE TABLE lease_tokens (last INTEGER NOT NULL);
INSERT INTO lease_tokens (last) VALUES (0);

ALTER TABLE frontier ADD COLUMN lease_token INTEGER;
ALTER TABLE frontier ADD COLUMN worker INTEGER;

-- The settings that decide what the crawl is, as its first run recorded
-- them (see the PostgreSQL store).
CREATE TABLE crawl_settings (
    grp          TEXT    PRIMARY KEY,
    value        TEXT    NOT NULL,
    recorded_at  INTEGER NOT NULL
);
