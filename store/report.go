package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// HostInfo is one host's persisted state as an operator sees it. Every
// method that returns it reads through the read-only pool.
type HostInfo struct {
	ID           int64
	Origin       string
	State        string // active or given_up
	Reason       string // why the host is slow, paused or given up
	Queued       int    // frontier rows waiting
	Leased       int    // claimed by a running crawler: buffered or being fetched
	Pages        int    // responses recorded
	Errors       int    // failed URLs
	DelayMS      int64  // pacing interval between requests; 0 = unlimited
	LatencyMS    int64  // smoothed response time
	CrawlDelayMS int64  // robots.txt Crawl-delay, 0 if none
	BackoffLevel int    // consecutive 429/503 answers
	Failures     int    // consecutive connection failures
	NextFetchAt  time.Time
	UpdatedAt    time.Time
	Owner        string // the worker holding the host's lease (host:pid, worker id), "" when none

	// Robots fields are filled by Explain only.
	RobotsFetched   bool // robots.txt was fetched (or attempted) at least once
	RobotsStatus    int  // HTTP status of robots.txt, 0 = network error
	RobotsBody      []byte
	RobotsError     string
	RobotsFetchedAt time.Time
	RobotsExpiresAt time.Time
	RobotsFailures  int
}

// PausedUntil returns when the host may be fetched again, or the zero time
// when it is not paused at now.
func (h *HostInfo) PausedUntil(now time.Time) time.Time {
	if h.NextFetchAt.After(now) {
		return h.NextFetchAt
	}
	return time.Time{}
}

const hostInfoCols = `h.id, h.origin, h.state, coalesce(h.reason, ''), h.queued,
	(SELECT count(*) FROM frontier f WHERE f.host_id = h.id AND f.state = 'leased'),
	h.pages, h.errors, h.delay_ms, h.latency_ms, coalesce(h.crawl_delay_ms, 0), h.backoff_level, h.failures,
	h.next_fetch_at, h.updated_at,
	coalesce((SELECT w.hostname || ':' || w.pid || ' (worker ' || w.id || ')' FROM workers w
		WHERE w.id = h.lease_owner AND h.lease_token IS NOT NULL), '')`

func scanHostInfo(sc interface{ Scan(...any) error }, extra ...any) (HostInfo, error) {
	var h HostInfo
	var next, updated int64
	dest := append([]any{&h.ID, &h.Origin, &h.State, &h.Reason, &h.Queued, &h.Leased, &h.Pages, &h.Errors,
		&h.DelayMS, &h.LatencyMS, &h.CrawlDelayMS, &h.BackoffLevel, &h.Failures, &next, &updated, &h.Owner}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return h, err
	}
	h.NextFetchAt = unixMilli(next)
	h.UpdatedAt = unixMilli(updated)
	return h, nil
}

// unixMilli converts a stored time; zero and negative values (the zero
// time.Time written as milliseconds) mean "never".
func unixMilli(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// HostOrder says how HostList sorts.
type HostOrder string

// Host orders for HostList.
const (
	ByQueued  HostOrder = "queued"  // most queued first (default)
	ByPages   HostOrder = "pages"   // most responses first
	ByErrors  HostOrder = "errors"  // most failed URLs first
	ByLatency HostOrder = "latency" // slowest responses first
	ByDelay   HostOrder = "delay"   // longest pacing interval first
)

// orderTerms returns the ORDER BY terms of a host order HostList knows,
// written with greatest (Dialect.Greatest).
func orderTerms(o HostOrder, greatest func(a, b string) string) (string, bool) {
	switch o {
	case ByQueued:
		return "h.queued DESC, h.pages DESC, h.id", true
	case ByPages:
		return "h.pages DESC, h.id", true
	case ByErrors:
		return "h.errors DESC, h.id", true
	case ByLatency:
		return "h.latency_ms DESC, h.id", true
	case ByDelay:
		return greatest("h.delay_ms", "coalesce(h.crawl_delay_ms, 0)") + " DESC, h.id", true
	}
	return "", false
}

// Check returns an error naming the orders HostList knows when o is not
// one of them ("" is ByQueued).
func (o HostOrder) Check() error {
	if _, ok := orderTerms(o, func(a, b string) string { return "" }); !ok && o != "" {
		return fmt.Errorf("unknown order %q (want queued, pages, errors, latency or delay)", o)
	}
	return nil
}

// HostList returns up to limit hosts in the given order and the total
// number of hosts.
func (rd *Reader) HostList(ctx context.Context, order HostOrder, limit int) ([]HostInfo, int, error) {
	if order == "" {
		order = ByQueued
	}
	by, ok := orderTerms(order, rd.d.Greatest)
	if !ok {
		return nil, 0, fmt.Errorf("list hosts: %w", order.Check())
	}
	var total int
	if err := rd.queryRow(ctx, `SELECT count(*) FROM hosts`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list hosts: %w", rd.describe(err))
	}
	rows, err := rd.query(ctx, `SELECT `+hostInfoCols+` FROM hosts h ORDER BY `+by+` LIMIT ?`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list hosts: %w", rd.describe(err))
	}
	defer rows.Close()
	var out []HostInfo
	for rows.Next() {
		h, err := scanHostInfo(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list hosts: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list hosts: %w", rd.describe(err))
	}
	return out, total, nil
}

// FrontierCounts returns the number of frontier URLs in each state. It
// scans the state index, so callers that poll it should cache the answer.
func (rd *Reader) FrontierCounts(ctx context.Context) (map[string]int, error) {
	rows, err := rd.query(ctx, `SELECT state, count(*) FROM frontier GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count frontier: %w", rd.describe(err))
	}
	defer rows.Close()
	m := map[string]int{StateQueued: 0, StateLeased: 0, StateDone: 0, StateFailed: 0, StateSkipped: 0}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count frontier: %w", err)
		}
		m[s] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count frontier: %w", rd.describe(err))
	}
	return m, nil
}

// Remaining returns how many URLs wait (queued) and how many are claimed
// (leased). It reads per-host counters and a partial index, so it is cheap
// enough to call every second during a crawl.
func (rd *Reader) Remaining(ctx context.Context) (queued, leased int, err error) {
	err = rd.queryRow(ctx, `SELECT (SELECT coalesce(sum(queued), 0) FROM hosts),
		(SELECT count(*) FROM frontier WHERE state = 'leased')`).Scan(&queued, &leased)
	if err != nil {
		return 0, 0, fmt.Errorf("count remaining: %w", rd.describe(err))
	}
	return queued, leased, nil
}

// NextDue returns when the earliest queued URL may be fetched (zero when
// none is queued) and how many queued URLs are due at now.
func (rd *Reader) NextDue(ctx context.Context, now time.Time) (next time.Time, due int, err error) {
	var ms sql.NullInt64
	err = rd.queryRow(ctx, `SELECT min(next_attempt_at), count(CASE WHEN next_attempt_at <= ? THEN 1 END)
		FROM frontier WHERE state = 'queued'`, now.UnixMilli()).Scan(&ms, &due)
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("next due URL: %w", rd.describe(err))
	}
	if ms.Valid {
		next = time.UnixMilli(ms.Int64)
	}
	return next, due, nil
}

// StatusCount is how many pages were answered with one HTTP status.
type StatusCount struct {
	Status int
	Count  int
}

// SlowHost is a host with the response times of its pages fetched in a
// period, next to its persisted politeness state.
type SlowHost struct {
	HostInfo
	Fetched int   // pages fetched in the period
	AvgMS   int64 // mean response time
	MaxMS   int64 // slowest response
}

// Report is what a crawl database says at the end of a run.
type Report struct {
	ByState map[string]int // whole frontier
	Total   int
	Pages   int   // page rows in the database
	Bytes   int64 // decoded bytes of all pages

	// The following cover changes since the time given to Report.
	Statuses []StatusCount // pages fetched, by status, most frequent first
	Causes   []ReasonCount // failed and skipped URLs, most frequent reason first
	Failed   string        // one URL that failed, for an explain example; "" if none

	SlowHosts []SlowHost // hosts by mean response time of the pages fetched, slowest first
	NextDue   time.Time  // earliest time a queued URL may be fetched; zero if none queued
}

// Report summarises the database for the end of a run: whole-database
// totals, and status codes and failure causes since since. top bounds each
// list.
//
// It runs when a crawl ends, so it reads each page row once: the rows are
// wide (the body is stored inline), and reading them, not the arithmetic,
// is what a pass over pages costs. One pass over the pages fetched since
// since gives the status counts, the hosts' response times and their bytes;
// the pages before since are read only for their bytes.
func (rd *Reader) Report(ctx context.Context, since time.Time, top int) (*Report, error) {
	r := &Report{}
	var err error
	if r.ByState, err = rd.FrontierCounts(ctx); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, n := range r.ByState {
		r.Total += n
	}
	sinceMS := since.UnixMilli()
	if err := rd.queryRow(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM pages WHERE fetched_at < ?`,
		sinceMS).Scan(&r.Pages, &r.Bytes); err != nil {
		return nil, fmt.Errorf("report: %w", rd.describe(err))
	}
	if err := rd.reportSince(ctx, r, sinceMS, top); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if r.Causes, err = rd.Causes(ctx, since, top); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	err = rd.queryRow(ctx, `SELECT url FROM frontier WHERE state = 'failed' AND updated_at >= ? LIMIT 1`,
		sinceMS).Scan(&r.Failed)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("report: %w", rd.describe(err))
	}
	if r.ByState[StateQueued] > 0 {
		if r.NextDue, _, err = rd.NextDue(ctx, time.Now()); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	return r, nil
}

// Causes returns the most frequent reasons URLs failed or were skipped
// since since, top of them, most frequent first.
func (rd *Reader) Causes(ctx context.Context, since time.Time, top int) ([]ReasonCount, error) {
	rows, err := rd.query(ctx, `SELECT state, coalesce(reason, ''), count(*) AS n FROM frontier
		WHERE state IN ('failed', 'skipped') AND updated_at >= ? GROUP BY state, reason ORDER BY n DESC, reason LIMIT ?`,
		since.UnixMilli(), top)
	if err != nil {
		return nil, fmt.Errorf("causes: %w", rd.describe(err))
	}
	defer rows.Close()
	var out []ReasonCount
	for rows.Next() {
		var c ReasonCount
		if err := rows.Scan(&c.State, &c.Reason, &c.Count); err != nil {
			return nil, fmt.Errorf("causes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("causes: %w", rd.describe(err))
	}
	return out, nil
}

// reportSince reads the pages fetched since sinceMS in one pass: it adds
// them to r's totals and fills r.Statuses and r.SlowHosts, top of each.
func (rd *Reader) reportSince(ctx context.Context, r *Report, sinceMS int64, top int) error {
	rows, err := rd.query(ctx, `SELECT f.host_id, p.status, count(*), sum(p.size), sum(p.duration_ms), max(p.duration_ms)
		FROM pages p LEFT JOIN frontier f ON f.id = p.url_id WHERE p.fetched_at >= ? GROUP BY f.host_id, p.status`, sinceMS)
	if err != nil {
		return rd.describe(err)
	}
	defer rows.Close()
	statuses := map[int]int{}
	type hostTimes struct {
		id           int64
		n            int
		sumMS, maxMS int64
	}
	byHost := map[int64]*hostTimes{}
	for rows.Next() {
		var id sql.NullInt64 // a page's URL always has a host; NULL only if the schema's references broke
		var bytes, sumMS, maxMS int64
		var status, n int
		if err := rows.Scan(&id, &status, &n, &bytes, &sumMS, &maxMS); err != nil {
			return err
		}
		r.Pages += n
		r.Bytes += bytes
		statuses[status] += n
		if !id.Valid {
			continue
		}
		h := byHost[id.Int64]
		if h == nil {
			h = &hostTimes{id: id.Int64}
			byHost[id.Int64] = h
		}
		h.n += n
		h.sumMS += sumMS
		h.maxMS = max(h.maxMS, maxMS)
	}
	if err := rows.Err(); err != nil {
		return rd.describe(err)
	}
	rows.Close()
	for st, n := range statuses {
		r.Statuses = append(r.Statuses, StatusCount{Status: st, Count: n})
	}
	slices.SortFunc(r.Statuses, func(a, b StatusCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status))
	})
	if top >= 0 {
		r.Statuses = r.Statuses[:min(len(r.Statuses), top)]
	}

	// The mean is truncated to whole milliseconds, as SQL's CAST(avg(...) AS INTEGER) does.
	slow := make([]*hostTimes, 0, len(byHost))
	for _, h := range byHost {
		slow = append(slow, h)
	}
	avg := func(h *hostTimes) int64 { return h.sumMS / int64(h.n) }
	slices.SortFunc(slow, func(a, b *hostTimes) int {
		return cmp.Or(cmp.Compare(avg(b), avg(a)), cmp.Compare(a.id, b.id))
	})
	for _, h := range slow {
		if len(r.SlowHosts) == top {
			break
		}
		info, err := scanHostInfo(rd.queryRow(ctx, `SELECT `+hostInfoCols+` FROM hosts h WHERE h.id = ?`, h.id))
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return fmt.Errorf("host %d: %w", h.id, rd.describe(err))
		}
		r.SlowHosts = append(r.SlowHosts, SlowHost{HostInfo: info, Fetched: h.n, AvgMS: avg(h), MaxMS: h.maxMS})
	}
	return nil
}
