-- Revisits (recrawl.enabled): a URL whose fetch was recorded is fetched
-- again when it is due, with a conditional request built from its stored
-- ETag and Last-Modified.

-- Unix ms when the URL is due for its next fetch; NULL when it is not
-- scheduled (queued and leased URLs, URLs never fetched, recrawl off).
ALTER TABLE frontier ADD COLUMN next_fetch_at INTEGER;
-- The URL's revisit interval as last computed: adaptive intervals grow
-- while the URL does not change and shrink when it does.
ALTER TABLE frontier ADD COLUMN revisit_interval_ms INTEGER;
-- Fetches after the first that got an answer; of those, the ones that
-- found the content unchanged (the same status, target and body), and of
-- those the ones answered 304 Not Modified.
ALTER TABLE frontier ADD COLUMN revisits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE frontier ADD COLUMN not_modified INTEGER NOT NULL DEFAULT 0;
-- The value of claims when the URL last ended (done, failed, skipped): a
-- URL leased many times since without an outcome is skipped as a URL that
-- stops the crawler, counted from there, so revisits do not add up.
ALTER TABLE frontier ADD COLUMN fetch_claims INTEGER NOT NULL DEFAULT 0;
-- Due URLs of a host, for the claim: only scheduled rows are in it.
CREATE INDEX frontier_revisit ON frontier (host_id, next_fetch_at) WHERE next_fetch_at IS NOT NULL;
-- URLs that ended without a schedule (fetched with recrawl off, or before
-- this version), to schedule when a run has recrawl on. Such a run
-- schedules every URL it ends, so while recrawl is on this index is empty.
CREATE INDEX frontier_unscheduled ON frontier (id) WHERE next_fetch_at IS NULL AND state IN ('done', 'failed');

-- The earliest next_fetch_at of the host's URLs, kept with each commit and
-- claim, so that finding hosts with URLs due never scans the frontier.
ALTER TABLE hosts ADD COLUMN next_revisit_at INTEGER;
CREATE INDEX hosts_revisit ON hosts (next_revisit_at) WHERE next_revisit_at IS NOT NULL;
