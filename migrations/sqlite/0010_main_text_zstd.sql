-- The visible main text (parse.main_text) took several times the space of
-- the compressed bodies on text-heavy sites. A page whose HTML body is
-- stored keeps no copy of its main text: main_text_in_body = 1, and the
-- text is derived from the body when read. A page without a stored body
-- (store.bodies: none) keeps it zstd-compressed in main_text_zstd. Rows
-- written before this migration keep it raw in main_text.
--
-- Read it with the page_text view in crawler query, or with the functions
-- the crawler registers there: body_text(body, body_encoding, content_type)
-- and decompress(main_text_zstd). Other SQLite tools do not have them: use
-- crawler export --table page_data.
ALTER TABLE page_data ADD COLUMN main_text_zstd BLOB;
ALTER TABLE page_data ADD COLUMN main_text_in_body INTEGER NOT NULL DEFAULT 0;

-- One row per page with main text, readable as text.
CREATE VIEW page_text AS
    SELECT d.page_id, p.url, p.title,
        CASE WHEN d.main_text_in_body = 1 THEN body_text(p.body, p.body_encoding, p.content_type)
            ELSE coalesce(d.main_text, decompress(d.main_text_zstd)) END AS main_text
    FROM page_data d JOIN pages p ON p.id = d.page_id
    WHERE d.main_text_in_body = 1 OR d.main_text IS NOT NULL OR d.main_text_zstd IS NOT NULL;
