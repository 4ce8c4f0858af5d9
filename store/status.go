package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Status is a summary of a crawl database, computed from the read-only pool.
type Status struct {
	Total      int
	ByState    map[string]int
	Pages      int
	Bytes      int64
	LastMinute int // pages fetched in the last 60 s
	Running    bool
	LastRun    struct {
		StartedAt int64
		Outcome   string
	}
	TopReasons []ReasonCount
	Hosts      []HostStatus
	MoreHosts  int
	// Revisits count the URLs scheduled for a revisit (recrawl): due now,
	// and not yet due, the first of which is due at NextDue.
	Revisits struct {
		Due, NotYetDue int
		NextDue        time.Time // zero when none is waiting
	}
	Workers []WorkerInfo // the crawl's worker processes, the latest first (at most 20)
}

// WorkerInfo is one crawler process of a crawl, as the workers table
// records it.
type WorkerInfo struct {
	ID          int64
	Hostname    string
	PID         int
	Started     time.Time
	Heartbeat   time.Time
	HeartbeatAt time.Duration // how long ago, by the database's clock
	Stopped     time.Time     // zero unless it ended cleanly
	HostsHeld   int
	Pages       int // pages it recorded
	State       string
}

// Worker states.
const (
	WorkerRunning = "running"
	WorkerStopped = "stopped"
	// WorkerLost is a worker whose heartbeat is older than its host lease:
	// killed, or cut off from the database. Its hosts are taken over.
	WorkerLost = "lost"
)

// Workers returns up to limit workers of the crawl, the latest first.
func (rd *Reader) Workers(ctx context.Context, limit int) ([]WorkerInfo, error) {
	rows, err := rd.query(ctx, `SELECT id, hostname, pid, started_at, heartbeat_at, `+rd.d.Now+` - heartbeat_at, lease_ms,
		coalesce(stopped_at, 0), hosts_held, pages FROM workers ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", rd.describe(err))
	}
	defer rows.Close()
	var out []WorkerInfo
	for rows.Next() {
		var w WorkerInfo
		var started, beat, ago, lease, stopped int64
		if err := rows.Scan(&w.ID, &w.Hostname, &w.PID, &started, &beat, &ago, &lease, &stopped, &w.HostsHeld, &w.Pages); err != nil {
			return nil, fmt.Errorf("list workers: %w", err)
		}
		w.Started, w.Heartbeat, w.Stopped = unixMilli(started), unixMilli(beat), unixMilli(stopped)
		w.HeartbeatAt = time.Duration(ago) * time.Millisecond
		switch {
		case stopped > 0:
			w.State = WorkerStopped
		case ago > lease:
			w.State = WorkerLost
		default:
			w.State = WorkerRunning
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list workers: %w", rd.describe(err))
	}
	return out, nil
}

// ReasonCount is how many URLs ended in a state for one reason.
type ReasonCount struct {
	State, Reason string
	Count         int
}

// HostStatus is one host's line in a status report.
type HostStatus struct {
	Origin                string
	Queued, Pages, Errors int
	DelayMS               int64
	State, Reason         string
}

// Status reads a summary without blocking a running crawl.
func (rd *Reader) Status(ctx context.Context) (*Status, error) {
	st := &Status{ByState: map[string]int{}}
	rows, err := rd.query(ctx, `SELECT state, count(*) FROM frontier GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("status: %w", rd.describe(err))
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("status: %w", err)
		}
		st.ByState[s] = n
		st.Total += n
	}
	rows.Close()
	since := time.Now().Add(-time.Minute).UnixMilli()
	if err := rd.queryRow(ctx, `SELECT count(*), coalesce(sum(size), 0),
		(SELECT count(*) FROM pages WHERE fetched_at >= ?) FROM pages`, since).Scan(&st.Pages, &st.Bytes, &st.LastMinute); err != nil {
		return nil, fmt.Errorf("status: %w", rd.describe(err))
	}
	now := time.Now().UnixMilli()
	var nextDue sql.NullInt64
	if err := rd.queryRow(ctx, `SELECT coalesce(sum(CASE WHEN next_fetch_at <= ? THEN 1 ELSE 0 END), 0),
		coalesce(sum(CASE WHEN next_fetch_at > ? THEN 1 ELSE 0 END), 0), min(CASE WHEN next_fetch_at > ? THEN next_fetch_at END)
		FROM frontier WHERE next_fetch_at IS NOT NULL`, now, now, now).Scan(&st.Revisits.Due, &st.Revisits.NotYetDue,
		&nextDue); err != nil {
		return nil, fmt.Errorf("status: revisits: %w", rd.describe(err))
	}
	if nextDue.Valid {
		st.Revisits.NextDue = time.UnixMilli(nextDue.Int64)
	}
	var outcome *string
	err = rd.queryRow(ctx, `SELECT started_at, outcome FROM runs ORDER BY id DESC LIMIT 1`).Scan(&st.LastRun.StartedAt, &outcome)
	if err == nil && outcome != nil {
		st.LastRun.Outcome = *outcome
	}
	st.Running = err == nil && outcome == nil
	rows, err = rd.query(ctx, `SELECT state, coalesce(reason, ''), count(*) AS n FROM frontier
		WHERE state IN ('failed', 'skipped') GROUP BY state, reason ORDER BY n DESC LIMIT 10`)
	if err != nil {
		return nil, fmt.Errorf("status: %w", rd.describe(err))
	}
	for rows.Next() {
		var r ReasonCount
		if err := rows.Scan(&r.State, &r.Reason, &r.Count); err != nil {
			rows.Close()
			return nil, fmt.Errorf("status: %w", err)
		}
		st.TopReasons = append(st.TopReasons, r)
	}
	rows.Close()
	const maxHosts = 20
	rows, err = rd.query(ctx, `SELECT origin, queued, pages, errors, delay_ms, state, coalesce(reason, '')
		FROM hosts ORDER BY queued + pages DESC, id LIMIT ?`, maxHosts+1)
	if err != nil {
		return nil, fmt.Errorf("status: %w", rd.describe(err))
	}
	defer rows.Close()
	for rows.Next() {
		var h HostStatus
		if err := rows.Scan(&h.Origin, &h.Queued, &h.Pages, &h.Errors, &h.DelayMS, &h.State, &h.Reason); err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		st.Hosts = append(st.Hosts, h)
	}
	if st.Workers, err = rd.Workers(ctx, 20); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if len(st.Hosts) > maxHosts {
		var n int
		rd.queryRow(ctx, `SELECT count(*) FROM hosts`).Scan(&n)
		st.Hosts = st.Hosts[:maxHosts]
		st.MoreHosts = n - maxHosts
	}
	return st, rows.Err()
}
