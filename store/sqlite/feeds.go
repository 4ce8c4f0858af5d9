package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// FeedCursor returns how far the feed name has been written: the id of
// the last record and the file's length after it; zeros for a new feed.
func (db *DB) FeedCursor(ctx context.Context, name string) (lastID, length int64, err error) {
	err = db.w.QueryRowContext(ctx, `SELECT last_id, length FROM feed_cursors WHERE name = ?`, name).Scan(&lastID, &length)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("feed cursor %s: %w", name, describe(err))
	}
	return lastID, length, nil
}

// SaveFeedCursor records that the feed name has been written up to the
// record lastID, the file then being length bytes long; a webhook's batch
// being sent is then done.
func (db *DB) SaveFeedCursor(ctx context.Context, name string, lastID, length int64) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO feed_cursors (name, last_id, length, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET last_id = excluded.last_id, length = excluded.length, pending_id = NULL,
		updated_at = excluded.updated_at`,
		name, lastID, length, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("save feed cursor %s: %w", name, describe(err))
	}
	return nil
}

// WebhookBatch returns the last id of the batch the webhook name was
// sending when its run ended (0 when none): it is sent again unchanged.
func (db *DB) WebhookBatch(ctx context.Context, name string) (int64, error) {
	var id sql.NullInt64
	err := db.w.QueryRowContext(ctx, `SELECT pending_id FROM feed_cursors WHERE name = ?`, name).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("webhook batch %s: %w", name, describe(err))
	}
	return id.Int64, nil
}

// SaveWebhookBatch records that the webhook name is sending the batch
// that ends at lastID (0: none).
func (db *DB) SaveWebhookBatch(ctx context.Context, name string, lastID int64) error {
	var pending any
	if lastID != 0 {
		pending = lastID
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO feed_cursors (name, last_id, length, pending_id, updated_at)
		VALUES (?, 0, 0, ?, ?) ON CONFLICT (name) DO UPDATE SET pending_id = excluded.pending_id, updated_at = excluded.updated_at`,
		name, pending, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("save webhook batch %s: %w", name, describe(err))
	}
	return nil
}
