-- Links are stored one row per page: the page's links in one JSON array,
-- [[to_url, anchor or null, nofollow 0/1], ...], each canonical target once.
-- A row per link cost the writer more than the rest of a page together.
CREATE TABLE page_links (
    page_id INTEGER PRIMARY KEY REFERENCES pages (id),
    links   TEXT NOT NULL
);

INSERT INTO page_links (page_id, links)
SELECT from_id, json_group_array(json_array(to_url, anchor, nofollow))
FROM (SELECT from_id, to_url, anchor, nofollow FROM links ORDER BY from_id, to_url)
GROUP BY from_id;

DROP TABLE links;

-- links reads as the table it replaces: one row per link found on a stored
-- HTML page.
CREATE VIEW links (from_id, to_url, anchor, nofollow) AS
SELECT l.page_id, j.value ->> 0, j.value ->> 1, j.value ->> 2
FROM page_links l, json_each(l.links) AS j;

-- link_targets, the index of "which pages link to X", exists while
-- store.inbound_link_index is on: the crawler creates and fills it, and the
-- trigger page_links_targets, created with it, keeps it.
