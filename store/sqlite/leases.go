package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// StartWorker records this process as the crawl's worker (on SQLite the
// only one at a time) and returns its id.
func (db *DB) StartWorker(ctx context.Context, hostname string, pid int, lease time.Duration) (int64, error) {
	now := time.Now().UnixMilli()
	r, err := db.w.ExecContext(ctx, `INSERT INTO workers (hostname, pid, started_at, heartbeat_at, lease_ms) VALUES (?, ?, ?, ?, ?)`,
		hostname, pid, now, now, lease.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("start worker: %w", describe(err))
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("start worker: %w", err)
	}
	db.worker.Store(id)
	return id, nil
}

// StopWorker records that this worker ended cleanly.
func (db *DB) StopWorker(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE workers SET stopped_at = ?, hosts_held = 0 WHERE id = ?`,
		time.Now().UnixMilli(), db.worker.Load()); err != nil {
		return fmt.Errorf("stop worker: %w", describe(err))
	}
	return nil
}

// returnLeased returns the URLs leased under the leases of the hosts ids
// to the queue, counting them back into each host's queued, and ends
// those leases.
func returnLeased(ctx context.Context, tx *sql.Tx, ids []int64) (int, error) {
	n := 0
	for _, id := range ids {
		r, err := tx.ExecContext(ctx, `UPDATE frontier SET state = 'queued', lease_until = NULL, lease_token = NULL
			WHERE host_id = ? AND state = 'leased'`, id)
		if err != nil {
			return 0, err
		}
		back, _ := r.RowsAffected()
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET queued = queued + ?, lease_token = NULL, lease_owner = NULL,
			lease_until = NULL WHERE id = ?`, back, id); err != nil {
			return 0, err
		}
		n += int(back)
	}
	return n, nil
}

// LeaseHosts leases to this worker, for ttl, up to q.Limit active hosts
// with queued URLs that are not leased (the hosts q.IDs, or those with an
// id above q.After in id order), taking over the hosts whose lease ran out
// first, as the PostgreSQL store does; the clock is the local one.
func (db *DB) LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("lease hosts: %w", describe(err))
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	var expired []int64
	rows, err := tx.QueryContext(ctx, `SELECT id FROM hosts WHERE lease_token IS NOT NULL AND lease_until < ?`, now)
	if err != nil {
		return nil, fmt.Errorf("lease hosts: %w", describe(err))
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lease hosts: %w", err)
		}
		expired = append(expired, id)
	}
	rows.Close()
	if _, err := returnLeased(ctx, tx, expired); err != nil {
		return nil, fmt.Errorf("lease hosts: take over expired leases: %w", describe(err))
	}
	cond, args := hostsToLease(q, now)
	query := `SELECT ` + hostCols + ` FROM hosts WHERE ` + cond + ` AND state = 'active' AND lease_token IS NULL
		AND id > ? ORDER BY id LIMIT ?`
	args = append(args, q.After, q.Limit)
	if q.IDs != nil {
		if len(q.IDs) == 0 {
			return nil, nil
		}
		query = `SELECT ` + hostCols + ` FROM hosts WHERE queued > 0 AND state = 'active' AND lease_token IS NULL
			AND id IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?`
		args = []any{int64List(q.IDs), q.Limit}
	}
	rows, err = tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("lease hosts: %w", describe(err))
	}
	var out []store.HostRow
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("lease hosts: %w", err)
		}
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lease hosts: %w", describe(err))
	}
	for i := range out {
		var token int64
		if err := tx.QueryRowContext(ctx, `UPDATE lease_tokens SET last = last + 1 RETURNING last`).Scan(&token); err != nil {
			return nil, fmt.Errorf("lease hosts: %w", describe(err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET lease_token = ?, lease_owner = ?, lease_until = ? WHERE id = ?`,
			token, db.worker.Load(), now+ttl.Milliseconds(), out[i].ID); err != nil {
			return nil, fmt.Errorf("lease hosts: %w", describe(err))
		}
		out[i].Token, out[i].LeaseLeft = token, ttl
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("lease hosts: %w", describe(err))
	}
	return out, nil
}

// hostsToLease is the condition on hosts of a LeaseHosts query without
// IDs, and its arguments: hosts with queued URLs, with URLs due for a
// revisit at now, or either, as q asks.
func hostsToLease(q store.HostQuery, now int64) (string, []any) {
	switch {
	case q.RevisitsOnly:
		return `next_revisit_at <= ?`, []any{now}
	case q.Revisits:
		return `(queued > 0 OR next_revisit_at <= ?)`, []any{now}
	}
	return `queued > 0`, nil
}

// int64List writes ids as a JSON array, for json_each.
func int64List(ids []int64) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(append(b, ']'))
}

// RenewHosts extends the leases this worker holds by ttl from now, and
// records its heartbeat. It returns, for each lease still held, how long
// it has left; a lease it lost is absent.
func (db *DB) RenewHosts(ctx context.Context, held []store.HostToken, ttl time.Duration) (map[int64]time.Duration, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("renew host leases: %w", describe(err))
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	out := map[int64]time.Duration{}
	for _, h := range held {
		r, err := tx.ExecContext(ctx, `UPDATE hosts SET lease_until = ? WHERE id = ? AND lease_token = ?`,
			now+ttl.Milliseconds(), h.ID, h.Token)
		if err != nil {
			return nil, fmt.Errorf("renew host leases: %w", describe(err))
		}
		if n, _ := r.RowsAffected(); n > 0 {
			out[h.ID] = ttl
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE workers SET heartbeat_at = ?, hosts_held = ? WHERE id = ?`,
		now, len(out), db.worker.Load()); err != nil {
		return nil, fmt.Errorf("renew host leases: %w", describe(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("renew host leases: %w", describe(err))
	}
	return out, nil
}

// ReleaseHosts ends leases this worker holds, once every outcome of them
// is recorded: URLs still leased under them are claims whose answer was
// lost, and return to the queue.
func (db *DB) ReleaseHosts(ctx context.Context, held []store.HostRelease) error {
	if len(held) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("release host leases: %w", describe(err))
	}
	defer tx.Rollback()
	for _, h := range held {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hosts WHERE id = ? AND lease_token = ?`, h.ID, h.Token).Scan(&n); err != nil {
			return fmt.Errorf("release host leases: %w", describe(err))
		}
		if n == 0 {
			continue
		}
		r, err := tx.ExecContext(ctx, `UPDATE frontier SET state = 'queued', lease_until = NULL, lease_token = NULL
			WHERE host_id = ? AND state = 'leased' AND lease_token = ?`, h.ID, h.Token)
		if err != nil {
			return fmt.Errorf("release host leases: %w", describe(err))
		}
		back, _ := r.RowsAffected()
		var next int64
		if !h.NextAllowedAt.IsZero() {
			next = h.NextAllowedAt.UnixMilli()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET lease_token = NULL, lease_owner = NULL, lease_until = NULL,
			queued = queued + ?1, next_allowed_at = CASE WHEN ?2 > 0 THEN ?2 ELSE next_allowed_at END WHERE id = ?3`,
			back, next, h.ID); err != nil {
			return fmt.Errorf("release host leases: %w", describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("release host leases: %w", describe(err))
	}
	return nil
}

// RecordSettings records the crawl's settings (crawl.Config.Settings) the
// first time, and returns a *store.SettingsDiffer when those recorded
// differ from settings, unless update says to record the new ones.
func (db *DB) RecordSettings(ctx context.Context, settings map[string]string, update bool) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record crawl settings: %w", describe(err))
	}
	defer tx.Rollback()
	q := `INSERT INTO crawl_settings (grp, value, recorded_at) VALUES (?, ?, ?) ON CONFLICT (grp) DO NOTHING`
	if update {
		q = `INSERT INTO crawl_settings (grp, value, recorded_at) VALUES (?, ?, ?)
			ON CONFLICT (grp) DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at`
	}
	now := time.Now().UnixMilli()
	for g, v := range settings {
		if _, err := tx.ExecContext(ctx, q, g, v, now); err != nil {
			return fmt.Errorf("record crawl settings: %w", describe(err))
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT grp, value FROM crawl_settings`)
	if err != nil {
		return fmt.Errorf("record crawl settings: %w", describe(err))
	}
	recorded := map[string]string{}
	for rows.Next() {
		var g, v string
		if err := rows.Scan(&g, &v); err != nil {
			rows.Close()
			return fmt.Errorf("record crawl settings: %w", err)
		}
		recorded[g] = v
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record crawl settings: %w", describe(err))
	}
	if differ := store.CompareSettings(recorded, settings); len(differ) > 0 {
		return &store.SettingsDiffer{Groups: differ}
	}
	return nil
}

// heldLease returns store.ErrHostLost unless the host lease h is held and
// has not run out at now.
func heldLease(ctx context.Context, tx *sql.Tx, h store.HostToken, now time.Time) error {
	var token, until sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT lease_token, lease_until FROM hosts WHERE id = ?`, h.ID).Scan(&token, &until); err != nil {
		return describe(err)
	}
	if !token.Valid || token.Int64 != h.Token || until.Int64 < now.UnixMilli() {
		return store.ErrHostLost
	}
	return nil
}
