-- Links are stored one row per page: the page's links in one JSON array,
-- [[to_url, anchor or null, nofollow 0/1], ...], each canonical target once,
-- as the SQLite store keeps them. json, not jsonb: the text is kept as the
-- crawler wrote it, which "who links to X" searches before decoding.
CREATE TABLE page_links (
    page_id bigint PRIMARY KEY REFERENCES pages (id),
    links   json   NOT NULL
);

INSERT INTO page_links (page_id, links)
SELECT from_id, json_agg(json_build_array(to_url, anchor, CASE WHEN nofollow THEN 1 ELSE 0 END) ORDER BY to_url)
FROM links GROUP BY from_id;

DROP TABLE links;

-- links reads as the table it replaces: one row per link found on a stored
-- HTML page.
CREATE VIEW links (from_id, to_url, anchor, nofollow) AS
SELECT l.page_id, j.value ->> 0, j.value ->> 1, (j.value ->> 2)::integer <> 0
FROM page_links l, json_array_elements(l.links) AS j;

-- link_targets, the index of "which pages link to X", exists while
-- store.inbound_link_index is on: the crawler creates and fills it, and
-- the trigger page_links_targets, which calls this function once per
-- statement with the rows it added, keeps it.
CREATE FUNCTION link_targets_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_targets (to_url, from_id)
    SELECT j.value ->> 0, a.page_id FROM added AS a, json_array_elements(a.links) AS j
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
