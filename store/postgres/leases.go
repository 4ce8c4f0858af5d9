package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

// sqlNow is the database's time in unix milliseconds: host leases are
// measured by one clock, whichever machine a worker runs on.
const sqlNow = `(extract(epoch from clock_timestamp()) * 1000)::bigint`

// dbNow returns the database's time, unix ms.
func dbNow(ctx context.Context, tx pgx.Tx) (int64, error) {
	var now int64
	err := tx.QueryRow(ctx, `SELECT `+sqlNow).Scan(&now)
	return now, err
}

// StartWorker records this process as a worker of the crawl (its host,
// pid and host lease), and returns its id. Host leases, claims and pages
// recorded from then on carry the id.
func (db *DB) StartWorker(ctx context.Context, hostname string, pid int, lease time.Duration) (int64, error) {
	var id int64
	err := db.w.QueryRow(ctx, `INSERT INTO workers (hostname, pid, started_at, heartbeat_at, lease_ms)
		VALUES ($1, $2, `+sqlNow+`, `+sqlNow+`, $3) RETURNING id`, text(hostname), pid, lease.Milliseconds()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start worker: %w", describe(err))
	}
	db.worker.Store(id)
	return id, nil
}

// StopWorker records that this worker ended cleanly.
func (db *DB) StopWorker(ctx context.Context) error {
	if _, err := db.w.Exec(ctx, `UPDATE workers SET stopped_at = `+sqlNow+`, hosts_held = 0 WHERE id = $1`,
		db.worker.Load()); err != nil {
		return fmt.Errorf("stop worker: %w", describe(err))
	}
	return nil
}

// reap ends the host leases that ran out (their holder died, or lost the
// database for longer than its lease): the hosts' leased URLs return to
// the queue, and the hosts are free to lease. It returns the URLs
// returned.
func reap(ctx context.Context, tx pgx.Tx, now int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `WITH expired AS (
			SELECT id FROM hosts WHERE lease_token IS NOT NULL AND lease_until < $1 ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
		back AS (
			UPDATE frontier f SET state = 'queued', lease_until = NULL, lease_token = NULL
			FROM expired e WHERE f.host_id = e.id AND f.state = 'leased' RETURNING f.host_id),
		counts AS (SELECT host_id, count(*) AS n FROM back GROUP BY host_id),
		freed AS (
			UPDATE hosts h SET lease_token = NULL, lease_owner = NULL, lease_until = NULL,
				queued = h.queued + coalesce(c.n, 0)
			FROM expired e LEFT JOIN counts c ON c.host_id = e.id WHERE h.id = e.id RETURNING 1)
		SELECT coalesce((SELECT sum(n) FROM counts), 0)::bigint + 0 * (SELECT count(*) FROM freed)`, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("take over expired host leases: %w", err)
	}
	// URLs claimed under a lease since released, whose worker never
	// recorded them: back to the queue once their own lease ran out.
	var orphans int
	err = tx.QueryRow(ctx, `WITH stale AS (
			SELECT DISTINCT f.host_id AS id FROM frontier f JOIN hosts h ON h.id = f.host_id
			WHERE f.state = 'leased' AND f.lease_until < $1 AND h.lease_token IS DISTINCT FROM f.lease_token),
		locked AS (SELECT h.id, h.lease_token FROM hosts h JOIN stale s ON s.id = h.id ORDER BY h.id FOR NO KEY UPDATE OF h SKIP LOCKED),
		back AS (
			UPDATE frontier f SET state = 'queued', lease_until = NULL, lease_token = NULL
			FROM locked l WHERE f.host_id = l.id AND f.state = 'leased' AND f.lease_until < $1
				AND l.lease_token IS DISTINCT FROM f.lease_token
			RETURNING f.host_id),
		counts AS (SELECT host_id, count(*) AS n FROM back GROUP BY host_id),
		upd AS (UPDATE hosts h SET queued = h.queued + c.n FROM counts c WHERE h.id = c.host_id RETURNING 1)
		SELECT coalesce((SELECT sum(n) FROM counts), 0)::bigint + 0 * (SELECT count(*) FROM upd)`, now).Scan(&orphans)
	if err != nil {
		return 0, fmt.Errorf("return URL leases that ran out: %w", err)
	}
	return n + orphans, nil
}

// LeaseHosts leases to this worker, for ttl, up to q.Limit active hosts
// with queued URLs that nobody holds (the hosts q.IDs, or those with an
// id above q.After in id order), taking over the hosts whose lease ran
// out first: their leased URLs return to the queue. Hosts another worker
// is leasing at the same moment are skipped (SKIP LOCKED), not waited for.
func (db *DB) LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error) {
	var out []store.HostRow
	err := db.inTx(ctx, "lease hosts", func(tx pgx.Tx) error {
		out = nil
		now, err := dbNow(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := reap(ctx, tx, now); err != nil {
			return err
		}
		where, arg := `id > $3`, any(q.After)
		if q.IDs != nil {
			where, arg = `id = ANY($3)`, q.IDs
		}
		// Hosts with queued URLs, with URLs due for a revisit (by the
		// crawler's clock, as schedules are), or either, as q asks.
		which := `queued > 0`
		if q.IDs == nil {
			due := fmt.Sprintf(`next_revisit_at <= %d`, time.Now().UnixMilli())
			switch {
			case q.RevisitsOnly:
				which = due
			case q.Revisits:
				which = `(queued > 0 OR ` + due + `)`
			}
		}
		rows, err := tx.Query(ctx, `WITH picked AS (
				SELECT id FROM hosts WHERE `+which+` AND state = 'active' AND lease_token IS NULL AND `+where+`
				ORDER BY id LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED)
			UPDATE hosts h SET lease_token = nextval('host_lease_tokens'), lease_owner = $1, lease_until = $2::bigint + $5::bigint
			FROM picked p WHERE h.id = p.id
			RETURNING `+hostColsOf("h")+`, h.lease_token`, db.worker.Load(), now, arg, q.Limit, ttl.Milliseconds())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h store.HostRow
			err := scanHost(rows, &h, &h.Token)
			if err != nil {
				return err
			}
			h.LeaseLeft = ttl
			out = append(out, h)
		}
		return rows.Err()
	})
	slices.SortFunc(out, func(a, b store.HostRow) int { return cmp.Compare(a.ID, b.ID) })
	return out, err
}

// RenewHosts extends the leases this worker holds by ttl from now, and
// records its heartbeat. It returns, for each lease it still holds, how
// long it has left by the database's clock; a lease it lost is absent.
func (db *DB) RenewHosts(ctx context.Context, held []store.HostToken, ttl time.Duration) (map[int64]time.Duration, error) {
	held = slices.Clone(held)
	slices.SortFunc(held, func(a, b store.HostToken) int { return cmp.Compare(a.ID, b.ID) })
	ids, tokens := make([]int64, len(held)), make([]int64, len(held))
	for i, h := range held {
		ids[i], tokens[i] = h.ID, h.Token
	}
	out := map[int64]time.Duration{}
	err := db.inTx(ctx, "renew host leases", func(tx pgx.Tx) error {
		clear(out)
		now, err := dbNow(ctx, tx)
		if err != nil {
			return err
		}
		// Hosts first, in id order, then the worker's row, as a commit
		// takes them.
		if len(ids) > 0 {
			if _, err := tx.Exec(ctx, `SELECT 1 FROM hosts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `UPDATE hosts h SET lease_until = $3::bigint + $4::bigint
				FROM unnest($1::bigint[], $2::bigint[]) AS r(id, token)
				WHERE h.id = r.id AND h.lease_token = r.token RETURNING h.id`, ids, tokens, now, ttl.Milliseconds())
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				out[id] = ttl
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE workers SET heartbeat_at = $1, hosts_held = $2 WHERE id = $3`,
			now, len(out), db.worker.Load())
		return err
	})
	return out, err
}

// ReleaseHosts ends leases this worker holds, once every outcome of them
// is recorded: URLs still leased under them are claims whose answer was
// lost, and return to the queue. The hosts are free for any worker; a
// host's next allowed time is brought back to what HostRelease says.
func (db *DB) ReleaseHosts(ctx context.Context, held []store.HostRelease) error {
	if len(held) == 0 {
		return nil
	}
	held = slices.Clone(held)
	slices.SortFunc(held, func(a, b store.HostRelease) int { return cmp.Compare(a.ID, b.ID) })
	ids, tokens, next := make([]int64, len(held)), make([]int64, len(held)), make([]int64, len(held))
	for i, h := range held {
		ids[i], tokens[i] = h.ID, h.Token
		if !h.NextAllowedAt.IsZero() {
			next[i] = h.NextAllowedAt.UnixMilli()
		}
	}
	return db.inTx(ctx, "release host leases", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `WITH mine AS (
				SELECT h.id, r.token, r.next FROM hosts h JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(id, token, next)
					ON h.id = r.id AND h.lease_token = r.token
				ORDER BY h.id FOR NO KEY UPDATE OF h),
			back AS (
				UPDATE frontier f SET state = 'queued', lease_until = NULL, lease_token = NULL
				FROM mine m WHERE f.host_id = m.id AND f.state = 'leased' AND f.lease_token = m.token RETURNING f.host_id),
			counts AS (SELECT host_id, count(*) AS n FROM back GROUP BY host_id)
			UPDATE hosts h SET lease_token = NULL, lease_owner = NULL, lease_until = NULL,
				queued = h.queued + coalesce(c.n, 0),
				next_allowed_at = CASE WHEN m.next > 0 THEN m.next ELSE h.next_allowed_at END
			FROM mine m LEFT JOIN counts c ON c.host_id = m.id WHERE h.id = m.id`, ids, tokens, next)
		return err
	})
}

// RecordSettings records the crawl's settings (crawl.Config.Settings) the
// first time, and returns a *store.SettingsDiffer when those recorded
// differ from settings, unless update says to record the new ones.
func (db *DB) RecordSettings(ctx context.Context, settings map[string]string, update bool) error {
	groups := make([]string, 0, len(settings))
	for g := range settings {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	values := make([]string, len(groups))
	for i, g := range groups {
		values[i] = text(settings[g])
	}
	recorded := map[string]string{}
	err := db.inTx(ctx, "record crawl settings", func(tx pgx.Tx) error {
		clear(recorded)
		conflict := `DO NOTHING`
		if update {
			conflict = `DO UPDATE SET value = excluded.value, recorded_at = excluded.recorded_at`
		}
		if _, err := tx.Exec(ctx, `INSERT INTO crawl_settings (grp, value, recorded_at)
			SELECT g, v, `+sqlNow+` FROM unnest($1::text[], $2::text[]) AS s(g, v) ORDER BY g
			ON CONFLICT (grp) `+conflict, groups, values); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT grp, value FROM crawl_settings`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g, v string
			if err := rows.Scan(&g, &v); err != nil {
				return err
			}
			recorded[g] = v
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	if differ := store.CompareSettings(recorded, settings); len(differ) > 0 {
		return &store.SettingsDiffer{Groups: differ}
	}
	return nil
}
