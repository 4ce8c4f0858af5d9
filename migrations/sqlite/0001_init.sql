-- Hosts: one row per origin (scheme://host[:port]). Holds the robots.txt
-- cache and politeness state so both survive restarts.
CREATE TABLE hosts (
    id                   INTEGER PRIMARY KEY,
    origin               TEXT    NOT NULL UNIQUE,      -- e.g. http://127.0.0.2:8080
    queued               INTEGER NOT NULL DEFAULT 0,   -- frontier rows in state 'queued'
    robots_status        INTEGER,                      -- HTTP status of robots.txt, 0 = network error
    robots_body          BLOB,                         -- raw robots.txt (capped at 500 KiB)
    robots_fetched_at    INTEGER,                      -- unix ms
    robots_expires_at    INTEGER,                      -- unix ms; refetch after this
    robots_error         TEXT,
    robots_failures      INTEGER NOT NULL DEFAULT 0,   -- consecutive 5xx/network failures
    crawl_delay_ms       INTEGER,
    next_fetch_at        INTEGER NOT NULL DEFAULT 0,   -- unix ms; politeness or backoff pause
    backoff_level        INTEGER NOT NULL DEFAULT 0,   -- consecutive 429/503 answers
    failures             INTEGER NOT NULL DEFAULT 0,   -- consecutive connection failures/timeouts
    delay_ms             INTEGER NOT NULL DEFAULT 0,   -- adaptive delay between requests
    latency_ms           INTEGER NOT NULL DEFAULT 0,   -- smoothed response latency
    state                TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'given_up')),
    reason               TEXT,                         -- why the host is paused or given up
    pages                INTEGER NOT NULL DEFAULT 0,   -- responses recorded
    errors               INTEGER NOT NULL DEFAULT 0,   -- failed fetches
    updated_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX hosts_ready ON hosts (id) WHERE queued > 0 AND state = 'active';

-- Frontier: every URL the crawler has seen, with its state and the reason
-- for it. Terminal states are done, failed and skipped.
CREATE TABLE frontier (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL UNIQUE,          -- canonical form
    host_id         INTEGER REFERENCES hosts (id),    -- NULL for URLs skipped before a host was needed
    depth           INTEGER NOT NULL,
    parent_id       INTEGER,                          -- frontier id of the page it was first found on
    source          TEXT    NOT NULL,                 -- seed, link, redirect, sitemap, list, canonical
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed', 'skipped')),
    reason          TEXT,                             -- why it is in that state
    status          INTEGER,                          -- last HTTP status, if any
    attempts        INTEGER NOT NULL DEFAULT 0,       -- fetch attempts that produced an outcome
    claims          INTEGER NOT NULL DEFAULT 0,       -- times leased (guards against URLs that kill the process)
    redirects       INTEGER NOT NULL DEFAULT 0,       -- redirect hops that led here
    next_attempt_at INTEGER NOT NULL DEFAULT 0,       -- unix ms; retry not before
    lease_until     INTEGER,                          -- unix ms, while leased
    last_error      TEXT,
    discovered_at   INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX frontier_queued ON frontier (host_id, depth, id) WHERE state = 'queued';
CREATE INDEX frontier_leased ON frontier (host_id) WHERE state = 'leased';
CREATE INDEX frontier_state ON frontier (state, reason);

-- Pages: one row per URL whose fetch ended with an HTTP response.
CREATE TABLE pages (
    id             INTEGER PRIMARY KEY,
    url_id         INTEGER NOT NULL UNIQUE REFERENCES frontier (id),
    url            TEXT    NOT NULL,                  -- canonical URL requested
    final_url      TEXT    NOT NULL,                  -- redirect target for 3xx, else url
    status         INTEGER NOT NULL,
    content_type   TEXT,
    encoding       TEXT,                              -- charset the body was decoded from
    headers        TEXT,                              -- selected response headers as JSON
    fetched_at     INTEGER NOT NULL,                  -- unix ms
    duration_ms    INTEGER NOT NULL,
    size           INTEGER NOT NULL,                  -- decoded body bytes
    truncated      INTEGER NOT NULL DEFAULT 0,        -- body cut at the configured cap
    body           BLOB,                              -- body, compressed as body_encoding says
    body_encoding  TEXT,                              -- zstd, s2, gzip, identity or NULL when not stored
    content_hash   TEXT,                              -- xxh64 of the decoded body, hex
    title          TEXT,
    description    TEXT,
    canonical      TEXT,
    meta_robots    TEXT,
    lang           TEXT,
    depth          INTEGER NOT NULL
);
CREATE INDEX pages_fetched_at ON pages (fetched_at);
CREATE INDEX pages_content_hash ON pages (content_hash);

-- Links: every link found on a stored HTML page.
CREATE TABLE links (
    from_id   INTEGER NOT NULL REFERENCES pages (id),
    to_url    TEXT    NOT NULL,                       -- canonical target
    anchor    TEXT,
    nofollow  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (from_id, to_url)
) WITHOUT ROWID;
CREATE INDEX links_to_url ON links (to_url);

-- Run metadata: one row per crawler run, for status and reports.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    outcome     TEXT,                                 -- finished, interrupted, failed, limit
    config      TEXT
);
