-- Near-duplicates (dedup.near_duplicates): the SimHash of each HTML page's
-- main text, and the earlier page of the same host it nearly duplicates.

-- 64-bit SimHash of the main text (as a signed integer); NULL when the
-- page has none (not HTML, too little text, or detection off).
ALTER TABLE pages ADD COLUMN simhash INTEGER;
-- The page (pages.id) of the same host whose SimHash is within
-- dedup.max_distance bits, and why, e.g. "simhash distance 2 to URL".
ALTER TABLE pages ADD COLUMN near_duplicate_of INTEGER REFERENCES pages (id);
ALTER TABLE pages ADD COLUMN near_duplicate_reason TEXT;

-- The band index of the SimHashes of pages that are no near-duplicate:
-- key is band << 16 | the band's 16 bits (4 bands). Two SimHashes at most
-- 3 bits apart share a key (and most up to 6 apart), so a lookup reads 4
-- ranges of one host.
CREATE TABLE simhash_bands (
    host_id  INTEGER NOT NULL,
    key      INTEGER NOT NULL,
    page_id  INTEGER NOT NULL REFERENCES pages (id),
    PRIMARY KEY (host_id, key, page_id)
) WITHOUT ROWID;
CREATE INDEX simhash_bands_page ON simhash_bands (page_id);
