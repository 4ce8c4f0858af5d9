-- Change history (recrawl.enabled): each response of a URL whose status,
-- final URL or body hash differs from the one recorded before it is a
-- version. The pages row stays the latest (the URL's version with the
-- highest id is its copy); an unchanged revisit (the same body, or 304)
-- writes no version.
CREATE TABLE versions (
    id             INTEGER PRIMARY KEY,
    url_id         INTEGER NOT NULL REFERENCES frontier (id),
    url            TEXT    NOT NULL,
    prev_id        INTEGER REFERENCES versions (id),  -- the URL's version before this one; NULL for its first
    fetched_at     INTEGER NOT NULL,                  -- unix ms
    status         INTEGER NOT NULL,
    final_url      TEXT    NOT NULL,
    content_hash   TEXT,                              -- as pages.content_hash
    size           INTEGER NOT NULL,                  -- decoded body bytes
    body           BLOB,                              -- with recrawl.keep_versions, compressed as body_encoding says
    body_encoding  TEXT
);
CREATE INDEX versions_url ON versions (url_id, id);
CREATE INDEX versions_fetched_at ON versions (fetched_at);

-- The items the extraction rules gave each version: a price history is a
-- join of versions and version_items.
CREATE TABLE version_items (
    version_id  INTEGER NOT NULL REFERENCES versions (id),
    rule        TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    data        TEXT    NOT NULL,   -- JSON object of typed field values
    PRIMARY KEY (version_id, rule, idx)
) WITHOUT ROWID;
