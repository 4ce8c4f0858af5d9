-- Links in a row within one URL template (the URL with digit runs read as
-- N, such as /calendar/N/N) on the path that reached the URL: 0 when its
-- parent has another template. Bounded by limits.max_template_chain.
ALTER TABLE frontier ADD COLUMN chain INTEGER NOT NULL DEFAULT 0;

-- 1 when a URL is skipped only because of the path it was reached by: deeper
-- than limits.max_depth, or a template chain longer than
-- limits.max_template_chain. Found again by a path that passes, it is queued.
ALTER TABLE frontier ADD COLUMN path_limited INTEGER NOT NULL DEFAULT 0;

-- Unix ms before which no crawler may send this host a request: written
-- before requests are sent, so the host's Crawl-delay and rate hold across a
-- restart (and, later, across a change of the machine that owns the host).
ALTER TABLE hosts ADD COLUMN next_allowed_at INTEGER NOT NULL DEFAULT 0;

-- Page fields cut at their cap (parse.max_title, max_description,
-- max_anchor), comma-separated: title, description, anchor.
ALTER TABLE pages ADD COLUMN fields_truncated TEXT;

-- Item fields cut at parse.max_item_field, comma-separated field names.
ALTER TABLE items ADD COLUMN truncated TEXT;
