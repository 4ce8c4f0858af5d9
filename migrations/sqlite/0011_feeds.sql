-- Feeds and webhooks (the feeds: and webhooks: config groups): how far
-- each has been written or delivered. A file
-- feed is cut back to length when a run starts, and continues after
-- last_id, so each record is in the file once across kills and restarts.
CREATE TABLE feed_cursors (
    name        TEXT    PRIMARY KEY,   -- the feed's path as configured, with its table and rule
    last_id     INTEGER NOT NULL,      -- id of the last item or page written
    length      INTEGER NOT NULL,      -- file length after it, bytes
    pending_id  INTEGER,               -- a webhook's batch being sent: its last id, so it is resent unchanged
    updated_at  INTEGER NOT NULL       -- unix ms
);
