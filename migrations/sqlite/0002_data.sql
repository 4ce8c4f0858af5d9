-- Structured data and text found on HTML pages without configuration.
CREATE TABLE page_data (
    page_id    INTEGER PRIMARY KEY REFERENCES pages (id),
    jsonld     TEXT,   -- JSON array of the page's JSON-LD blocks
    opengraph  TEXT,   -- JSON object of og:* properties
    twitter    TEXT,   -- JSON object of twitter:* properties
    main_text  TEXT    -- visible main text
);

-- Items: rows produced by the extraction rules in config.yaml.
CREATE TABLE items (
    id            INTEGER PRIMARY KEY,
    page_id       INTEGER NOT NULL REFERENCES pages (id),
    url           TEXT    NOT NULL,
    rule          TEXT    NOT NULL,    -- rule set name
    idx           INTEGER NOT NULL,    -- position of the block on the page
    data          TEXT    NOT NULL,    -- JSON object of typed field values
    errors        TEXT,                -- JSON array of extraction errors, NULL if none
    extracted_at  INTEGER NOT NULL,
    UNIQUE (page_id, rule, idx)
);
CREATE INDEX items_rule ON items (rule, id);
CREATE INDEX items_extracted_at ON items (extracted_at);
