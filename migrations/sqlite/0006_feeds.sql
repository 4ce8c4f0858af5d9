-- Feeds (the feeds: config group): how far each has been written. A file
-- feed is cut back to length when a run starts, and continues after
-- last_id, so each record is in the file once across kills and restarts.
CREATE TABLE feed_cursors (
    name        TEXT    PRIMARY KEY,   -- the feed's path as configured, with its table and rule
    last_id     INTEGER NOT NULL,      -- id of the last item or page written
    length      INTEGER NOT NULL,      -- file length after it, bytes
    updated_at  INTEGER NOT NULL       -- unix ms
);
