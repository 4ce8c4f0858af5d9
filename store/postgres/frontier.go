package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

// hostIDs maps origins to host ids, which never change. Whether a host is
// given up is read under the host's row lock in each transaction, since
// another worker may give it up at any time. Bounded: cleared when full.
type hostIDs struct {
	mu sync.Mutex
	m  map[string]int64 // guarded by mu
}

const hostIDsMax = 1 << 17

func (c *hostIDs) get(origin string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.m[origin]
	return id, ok
}

func (c *hostIDs) set(origin string, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= hostIDsMax {
		clear(c.m)
	}
	c.m[origin] = id
}

// txRetries is how many times a transaction that lost a serialization
// conflict or a deadlock is run again before its error is returned
// (marked store.ErrUnavailable, for the caller's own backoff).
const txRetries = 5

// inTx runs f in a transaction and commits it, running it again when it
// fails with a serialization failure or a deadlock. what names the
// operation in errors.
func (db *DB) inTx(ctx context.Context, what string, f func(tx pgx.Tx) error) error {
	var err error
	for try := 0; try < txRetries; try++ {
		err = db.tryTx(ctx, f)
		if err == nil || !conflict(err) {
			break
		}
		db.conflicts.Add(1)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, describe(err))
	}
	return nil
}

func (db *DB) tryTx(ctx context.Context, f func(tx pgx.Tx) error) error {
	tx, err := db.w.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// conflict reports a serialization failure or a deadlock.
func conflict(err error) bool {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		c := pe.SQLState()
		return c == "40001" || c == "40P01"
	}
	return false
}

// text makes s storable in a PostgreSQL text column, which refuses
// invalid UTF-8 and NUL: both become U+FFFD, as an export would write
// them from SQLite.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nullText is text(s), or NULL for "".
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return text(s)
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullInt64(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// Add inserts URLs (seeds, URL lists, sitemap entries) in one transaction
// and returns the number of newly queued URLs per host.
func (db *DB) Add(ctx context.Context, urls []store.NewURL) (map[int64]int, error) {
	res, err := db.Commit(ctx, []store.Outcome{{Discovered: urls}})
	if err != nil {
		return nil, err
	}
	return res.NewByHost, nil
}

// Commit records a batch of outcomes in one transaction: for each, the
// frontier row's new state, the page row, its links, items and data, and
// the URLs it discovered. An outcome whose lease is no longer held is
// ignored entirely, discovered URLs included, so a page is never recorded
// twice. Outcomes with a zero Lease.ID only add their Discovered URLs.
//
// New frontier rows are inserted in URL order, and host rows are locked
// last, only those whose counters change, in id order, so that workers
// committing links to the same hosts neither wait for each other's hosts
// nor deadlock.
func (db *DB) Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error) {
	var res store.CommitResult
	err := db.inTx(ctx, "commit batch", func(tx pgx.Tx) error {
		var err error
		res, err = db.commit(ctx, tx, batch)
		return err
	})
	return res, err
}

// hostCounts are a batch's changes to a host's counters, and the
// frontier rows of the host the batch made queued.
type hostCounts struct {
	queued, pages, errors int
	made                  []int64 // ids of the rows made queued, locked by the transaction
	// nextRevisit is the earliest next fetch (unix ms) the batch
	// scheduled for the host's URLs, 0 for none.
	nextRevisit int64
}

// changed reports whether the host's row changes.
func (c *hostCounts) changed() bool {
	return c.queued != 0 || c.pages != 0 || c.errors != 0 || c.nextRevisit != 0
}

// revisitAt records that the batch schedules a URL of the host at ms.
func (c *hostCounts) revisitAt(ms int64) {
	if c.nextRevisit == 0 || ms < c.nextRevisit {
		c.nextRevisit = ms
	}
}

func (db *DB) commit(ctx context.Context, tx pgx.Tx, batch []store.Outcome) (store.CommitResult, error) {
	res := store.CommitResult{NewByHost: map[int64]int{}}
	now := time.Now().UnixMilli()

	// Hosts: create those discovered URLs need, and read which are given
	// up (read again under lock below).
	var origins []string
	for i := range batch {
		for _, u := range batch[i].Discovered {
			if u.State == store.StateQueued {
				if u.Origin == "" {
					return res, fmt.Errorf("add %s: queued URL without origin", u.URL)
				}
				origins = append(origins, u.Origin)
			}
		}
	}
	originIDs, err := db.ensureHosts(ctx, tx, origins, now)
	if err != nil {
		return res, err
	}
	givenUp, err := givenUpHosts(ctx, tx, originIDs)
	if err != nil {
		return res, err
	}

	// Frontier rows of the leases: their new state, fenced by the lease.
	counts := map[int64]*hostCounts{}
	count := func(id int64) *hostCounts {
		c := counts[id]
		if c == nil {
			c = &hostCounts{}
			counts[id] = c
		}
		return c
	}
	var live []*store.Outcome
	var discovered []store.NewURL
	fb := &pgx.Batch{}
	var leased []*store.Outcome
	for i := range batch {
		o := &batch[i]
		if o.Lease.ID == 0 {
			discovered = append(discovered, o.Discovered...)
			continue
		}
		attempts := 0
		if o.Attempted {
			attempts = 1
		}
		var retryAt int64
		if !o.RetryAt.IsZero() {
			retryAt = o.RetryAt.UnixMilli()
		}
		var nextFetch, interval any
		if o.Schedule != nil && o.State != store.StateQueued {
			nextFetch, interval = o.Schedule.At.UnixMilli(), o.Schedule.Interval.Milliseconds()
		}
		fb.Queue(sqlFinish, o.State, nullText(o.Reason), nullInt(o.Status), attempts, retryAt, nullText(o.Err), now,
			o.Lease.ID, o.Lease.Claims, o.Lease.Token, nextFetch, interval)
		leased = append(leased, o)
	}
	if len(leased) > 0 {
		br := tx.SendBatch(ctx, fb)
		for _, o := range leased {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return res, fmt.Errorf("finish %s: %w", o.Lease.URL, err)
			}
			if tag.RowsAffected() == 0 {
				res.Stale++
				continue
			}
			live = append(live, o)
			discovered = append(discovered, o.Discovered...)
			if o.Lease.HostID == 0 {
				continue
			}
			c := count(o.Lease.HostID)
			if o.State == store.StateQueued {
				c.queued++
				c.made = append(c.made, o.Lease.ID)
				res.NewByHost[o.Lease.HostID]++
			}
			if o.State == store.StateFailed {
				c.errors++
			}
			if o.Schedule != nil && o.State != store.StateQueued {
				c.revisitAt(o.Schedule.At.UnixMilli())
			}
		}
		if err := br.Close(); err != nil {
			return res, err
		}
	}
	added, err := db.recordPages(ctx, tx, live, now)
	if err != nil {
		return res, err
	}
	for _, o := range added {
		if o.Lease.HostID != 0 {
			count(o.Lease.HostID).pages++
		}
	}
	n := len(added)
	res.Pages = n
	if err := db.insertURLs(ctx, tx, discovered, originIDs, givenUp, now, res.NewByHost, count); err != nil {
		return res, err
	}
	// Only now are host rows locked, those whose counters change, in id
	// order: most links name URLs known already, and a commit holds no
	// lock on other workers' hosts for them. A host given up since it was
	// read above has the rows this batch made queued ended here, under
	// its lock (GiveUpHost ended the others): these rows are the
	// transaction's own, so ending them waits for nobody.
	ids := make([]int64, 0, len(counts))
	for id, c := range counts {
		if c.changed() {
			ids = append(ids, id)
		}
	}
	nowGivenUp, err := lockHosts(ctx, tx, ids)
	if err != nil {
		return res, err
	}
	for id, reason := range nowGivenUp {
		c := counts[id]
		failed, err := endRows(ctx, tx, c.made, reason, now)
		if err != nil {
			return res, err
		}
		c.queued, c.errors = 0, c.errors+failed
		delete(res.NewByHost, id)
	}
	if err := updateHostCounts(ctx, tx, counts); err != nil {
		return res, err
	}
	// The worker's row last, as RenewHosts takes it after its hosts.
	if n > 0 {
		if _, err := tx.Exec(ctx, `UPDATE workers SET pages = pages + $1 WHERE id = $2`, n, db.worker.Load()); err != nil {
			return res, fmt.Errorf("count pages of worker: %w", err)
		}
	}
	return res, nil
}

// endRows ends the queued frontier rows ids of a given-up host with
// reason: skipped if never tried, failed if tried. It returns how many
// failed.
func endRows(ctx context.Context, tx pgx.Tx, ids []int64, reason string, now int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var failed int
	err := tx.QueryRow(ctx, `WITH ended AS (
			UPDATE frontier SET state = CASE WHEN attempts > 0 THEN 'failed' ELSE 'skipped' END, reason = $2,
				lease_until = NULL, updated_at = $3
			WHERE id = ANY($1) AND state = 'queued' RETURNING state)
		SELECT count(*) FILTER (WHERE state = 'failed') FROM ended`, ids, text(reason), now).Scan(&failed)
	if err != nil {
		return 0, fmt.Errorf("end URLs of given-up host: %w", err)
	}
	return failed, nil
}

// givenUpHosts returns the reasons of the hosts among ids given up, read
// without a lock.
func givenUpHosts(ctx context.Context, tx pgx.Tx, ids map[string]int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]int64, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	rows, err := tx.Query(ctx, `SELECT id, coalesce(reason, 'host given up') FROM hosts WHERE id = ANY($1) AND state = 'given_up'`, list)
	if err != nil {
		return nil, fmt.Errorf("hosts given up: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var reason string
		if err := rows.Scan(&id, &reason); err != nil {
			return nil, fmt.Errorf("hosts given up: %w", err)
		}
		out[id] = reason
	}
	return out, rows.Err()
}

// sqlFinish sets a leased URL's new state, if the lease is still held:
// the same claim, under the same host lease.
// sqlFinish records a lease's outcome: an ending one (not queued again)
// records the claims it ended at, and its schedule when recrawl is on. The
// status is the last HTTP status the URL got: an outcome without one
// keeps it.
const sqlFinish = `UPDATE frontier SET state = $1, reason = $2, status = coalesce($3, status), attempts = attempts + $4,
	next_attempt_at = $5, last_error = $6, lease_until = NULL, updated_at = $7,
	next_fetch_at = $11, revisit_interval_ms = coalesce($12, revisit_interval_ms),
	fetch_claims = CASE WHEN $1 = 'queued' THEN fetch_claims ELSE claims END
	WHERE id = $8 AND state = 'leased' AND claims = $9 AND lease_token = $10`

// ensureHosts returns the host ids of origins, creating the hosts that do
// not exist (in origin order).
func (db *DB) ensureHosts(ctx context.Context, tx pgx.Tx, origins []string, now int64) (map[string]int64, error) {
	ids := map[string]int64{}
	var missing []string
	for _, o := range origins {
		if _, ok := ids[o]; ok {
			continue
		}
		if id, ok := db.hosts.get(o); ok {
			ids[o] = id
			continue
		}
		ids[o] = 0
		missing = append(missing, o)
	}
	if len(missing) == 0 {
		return ids, nil
	}
	slices.Sort(missing)
	if _, err := tx.Exec(ctx, `INSERT INTO hosts (origin, updated_at) SELECT o, $2 FROM unnest($1::text[]) AS o
		ORDER BY o ON CONFLICT (origin) DO NOTHING`, missing, now); err != nil {
		return nil, fmt.Errorf("insert hosts: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT id, origin FROM hosts WHERE origin = ANY($1)`, missing)
	if err != nil {
		return nil, fmt.Errorf("host ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var o string
		if err := rows.Scan(&id, &o); err != nil {
			return nil, fmt.Errorf("host ids: %w", err)
		}
		ids[o] = id
		db.hosts.set(o, id)
	}
	return ids, rows.Err()
}

// lockHosts locks the rows of the hosts ids, in id order, for the rest of
// the transaction, and returns the reasons of those given up.
func lockHosts(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]string, error) {
	givenUp := map[int64]string{}
	if len(ids) == 0 {
		return givenUp, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, `SELECT id, state, coalesce(reason, 'host given up') FROM hosts WHERE id = ANY($1)
		ORDER BY id FOR NO KEY UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("lock hosts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state, reason string
		if err := rows.Scan(&id, &state, &reason); err != nil {
			return nil, fmt.Errorf("lock hosts: %w", err)
		}
		if state == "given_up" {
			givenUp[id] = reason
		}
	}
	return givenUp, rows.Err()
}

// updateHostCounts adds the batch's counts to the hosts' rows, in id
// order.
func updateHostCounts(ctx context.Context, tx pgx.Tx, counts map[int64]*hostCounts) error {
	ids := make([]int64, 0, len(counts))
	for id, c := range counts {
		if c.changed() {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		c := counts[id]
		// next_revisit_at moves back to the batch's earliest schedule, if
		// that is sooner.
		b.Queue(`UPDATE hosts SET queued = queued + $1, pages = pages + $2, errors = errors + $3,
			next_revisit_at = CASE WHEN $5::bigint IS NULL THEN next_revisit_at ELSE least(coalesce(next_revisit_at, $5), $5) END
			WHERE id = $4`, c.queued, c.pages, c.errors, id, nullInt64(c.nextRevisit))
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("count host URLs: %w", err)
	}
	return nil
}

// insertURLs adds frontier rows, in URL order, and counts the newly
// queued ones per host. A URL already present keeps its row unless it is
// found by a shorter path (see store.NewURL).
func (db *DB) insertURLs(ctx context.Context, tx pgx.Tx, urls []store.NewURL, hostIDs map[string]int64,
	givenUp map[int64]string, now int64, newByHost map[int64]int, count func(int64) *hostCounts) error {
	if len(urls) == 0 {
		return nil
	}
	// The first occurrence of each URL is inserted; every queued
	// occurrence counts for the shorter path.
	type entry struct {
		u      store.NewURL // the first occurrence, inserted
		state  string
		reason string
		dup    bool
		// short is the queued occurrence with the smallest depth (the
		// first of equals): its parent, source and redirects win;
		// minChain is the smallest chain of the queued occurrences.
		short    *store.NewURL
		minChain int
	}
	byURL := make(map[string]*entry, len(urls))
	order := make([]*entry, 0, len(urls))
	for _, u := range urls {
		state, reason := u.State, u.Reason
		if u.State == store.StateQueued {
			if why, ok := givenUp[hostIDs[u.Origin]]; ok {
				state, reason = store.StateSkipped, why
			}
		}
		e := byURL[u.URL]
		if e == nil {
			e = &entry{u: u, state: state, reason: reason}
			byURL[u.URL] = e
			order = append(order, e)
		} else {
			e.dup = true
		}
		if state != store.StateQueued {
			continue
		}
		if e.short == nil {
			uu := u
			e.short, e.minChain = &uu, u.Chain
			continue
		}
		if u.Depth < e.short.Depth {
			uu := u
			e.short = &uu
		}
		e.minChain = min(e.minChain, u.Chain)
	}
	slices.SortFunc(order, func(a, b *entry) int { return cmp.Compare(a.u.URL, b.u.URL) })

	n := len(order)
	cURL := make([]string, n)
	cHost := make([]*int64, n)
	cDepth := make([]int32, n)
	cChain := make([]int32, n)
	cParent := make([]*int64, n)
	cSource := make([]string, n)
	cState := make([]string, n)
	cReason := make([]*string, n)
	cLimited := make([]bool, n)
	cRedirects := make([]int32, n)
	cLastmod := make([]*int64, n)
	for i, e := range order {
		u := e.u
		cURL[i] = text(u.URL)
		if u.State == store.StateQueued {
			if id := hostIDs[u.Origin]; id != 0 {
				cHost[i] = &id
			}
		}
		cDepth[i], cChain[i] = int32(u.Depth), int32(u.Chain)
		if u.ParentID != 0 {
			p := u.ParentID
			cParent[i] = &p
		}
		cSource[i], cState[i] = u.Source, e.state
		if e.reason != "" {
			r := text(e.reason)
			cReason[i] = &r
		}
		cLimited[i] = u.PathLimited && e.state == store.StateSkipped
		cRedirects[i] = int32(u.Redirects)
		if !u.LastMod.IsZero() {
			m := u.LastMod.UnixMilli()
			cLastmod[i] = &m
		}
	}
	// URLs known already are left out before the insert, as the
	// statement's snapshot sees them: ON CONFLICT alone would wait for
	// any transaction updating such a row (another worker recording that
	// page, whose own links may name a page this one records: a deadlock).
	// Only URLs new to the crawl can wait, for another worker inserting
	// them too, and both insert in URL order.
	rows, err := tx.Query(ctx, `INSERT INTO frontier (url, host_id, depth, chain, parent_id, source, state, reason,
		path_limited, redirects, lastmod, discovered_at, updated_at)
		SELECT u.url, u.host_id, u.depth, u.chain, u.parent_id, u.source, u.state, u.reason, u.path_limited,
			u.redirects, u.lastmod, $12, $12
		FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::bigint[], $6::text[], $7::text[], $8::text[],
			$9::bool[], $10::int[], $11::bigint[])
			AS u(url, host_id, depth, chain, parent_id, source, state, reason, path_limited, redirects, lastmod)
		WHERE NOT EXISTS (SELECT 1 FROM frontier f WHERE f.url = u.url)
		ON CONFLICT (url) DO NOTHING RETURNING id, url, host_id, state`,
		cURL, cHost, cDepth, cChain, cParent, cSource, cState, cReason, cLimited, cRedirects, cLastmod, now)
	if err != nil {
		return fmt.Errorf("add URLs: %w", err)
	}
	inserted := map[string]bool{}
	for rows.Next() {
		var id int64
		var u string
		var host *int64
		var state string
		if err := rows.Scan(&id, &u, &host, &state); err != nil {
			rows.Close()
			return fmt.Errorf("add URLs: %w", err)
		}
		inserted[u] = true
		if state == store.StateQueued && host != nil {
			newByHost[*host]++
			c := count(*host)
			c.queued++
			c.made = append(c.made, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("add URLs: %w", err)
	}

	// Known URLs, and URLs found more than once in the batch, take the
	// shortest path found to them.
	var sURL []string
	var sHost, sParent []*int64
	var sDepth, sChain, sRedirects []int32
	var sSource []string
	for _, e := range order {
		if e.short == nil || inserted[e.u.URL] && !e.dup {
			continue
		}
		s := e.short
		host := hostIDs[s.Origin]
		sURL = append(sURL, text(s.URL))
		sHost = append(sHost, &host)
		sDepth = append(sDepth, int32(s.Depth))
		sChain = append(sChain, int32(e.minChain))
		var parent *int64
		if s.ParentID != 0 {
			p := s.ParentID
			parent = &p
		}
		sParent = append(sParent, parent)
		sSource = append(sSource, s.Source)
		sRedirects = append(sRedirects, int32(s.Redirects))
	}
	if len(sURL) == 0 {
		return nil
	}
	args := []any{sURL, sHost, sDepth, sChain, sParent, sSource, sRedirects, now}
	// A queued URL found by a shorter path: the parent that gave the
	// smaller depth becomes its parent.
	if _, err := tx.Exec(ctx, `UPDATE frontier f SET
			parent_id = CASE WHEN n.depth < f.depth THEN n.parent_id ELSE f.parent_id END,
			source = CASE WHEN n.depth < f.depth THEN n.source ELSE f.source END,
			redirects = CASE WHEN n.depth < f.depth THEN n.redirects ELSE f.redirects END,
			depth = least(f.depth, n.depth), chain = least(f.chain, n.chain), updated_at = $8
		FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::bigint[], $6::text[], $7::int[])
			AS n(url, host_id, depth, chain, parent_id, source, redirects)
		WHERE f.url = n.url AND f.state = 'queued' AND (f.depth > n.depth OR f.chain > n.chain)`, args...); err != nil {
		return fmt.Errorf("shorter paths: %w", err)
	}
	// A URL skipped only for its path, found by a path that passes.
	rows, err = tx.Query(ctx, `UPDATE frontier f SET state = 'queued', reason = NULL, path_limited = false,
			host_id = n.host_id, depth = n.depth, chain = n.chain, parent_id = n.parent_id, source = n.source,
			redirects = n.redirects, updated_at = $8
		FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::bigint[], $6::text[], $7::int[])
			AS n(url, host_id, depth, chain, parent_id, source, redirects)
		WHERE f.url = n.url AND f.state = 'skipped' AND f.path_limited
		RETURNING f.id, f.host_id`, args...)
	if err != nil {
		return fmt.Errorf("requeue shorter paths: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, host int64
		if err := rows.Scan(&id, &host); err != nil {
			return fmt.Errorf("requeue shorter paths: %w", err)
		}
		newByHost[host]++
		c := count(host)
		c.queued++
		c.made = append(c.made, id)
	}
	return rows.Err()
}

// Claim leases up to n due URLs of the host h, shallowest first, for
// lease, under the host lease h: it fails with store.ErrHostLost unless
// this worker holds that lease and it has not run out. When fewer than n
// are due, it also returns when the next queued URL of the host becomes
// due (zero if none waits).
func (db *DB) Claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error) {
	return db.claimRows(ctx, fmt.Sprintf("claim host %d", h.ID), h, n, lease, "",
		`state = 'queued' AND next_attempt_at <= $2`, `depth, id`,
		func(tx pgx.Tx, out []store.Lease) (time.Time, error) {
			if len(out) > 0 {
				if _, err := tx.Exec(ctx, `UPDATE hosts SET queued = queued - $1 WHERE id = $2`, len(out), h.ID); err != nil {
					return time.Time{}, err
				}
			}
			if len(out) == n {
				return time.Time{}, nil
			}
			var next *int64
			if err := tx.QueryRow(ctx, `SELECT min(next_attempt_at) FROM frontier WHERE host_id = $1 AND state = 'queued'`,
				h.ID).Scan(&next); err != nil || next == nil {
				return time.Time{}, err
			}
			return time.UnixMilli(*next), nil
		})
}

// claimRows leases, in one transaction under the host lease h (it fails
// with store.ErrHostLost unless the lease is held), up to n frontier rows
// of the host that where selects (in which $2 is the crawler's time), in
// order, also setting set (", col = value ..." or ""). then runs in the
// same transaction with the leases and returns the next due time.
func (db *DB) claimRows(ctx context.Context, what string, h store.HostToken, n int, lease time.Duration, set, where,
	order string, then func(tx pgx.Tx, out []store.Lease) (time.Time, error)) ([]store.Lease, time.Time, error) {
	var out []store.Lease
	var nextDue time.Time
	err := db.inTx(ctx, what, func(tx pgx.Tx) error {
		out, nextDue = nil, time.Time{}
		now, err := heldLease(ctx, tx, h)
		if err != nil {
			return err
		}
		local := time.Now()
		// The URL's own lease is in the database's time, as the hosts'.
		rows, err := tx.Query(ctx, `UPDATE frontier f SET state = 'leased', lease_until = $1, claims = f.claims + 1,
				updated_at = $2, lease_token = $5, worker = $6`+set+`
			FROM (SELECT id FROM frontier WHERE host_id = $3 AND `+where+`
				ORDER BY `+order+` LIMIT $4 FOR NO KEY UPDATE SKIP LOCKED) c
			WHERE f.id = c.id
			RETURNING `+leaseCols,
			now+lease.Milliseconds(), local.UnixMilli(), h.ID, n, h.Token, db.worker.Load())
		if err != nil {
			return err
		}
		if out, err = scanLeases(ctx, tx, rows, h); err != nil {
			return err
		}
		nextDue, err = then(tx, out)
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	sortLeases(out)
	return out, nextDue, nil
}

// Recover takes over the host leases that ran out (a worker that died
// holds them): their leased URLs return to the queue. It also ends the
// URLs of hosts given up that are still queued. Leases of workers still
// alive are left alone: unlike SQLite's, a PostgreSQL crawl is shared. It
// returns the URLs returned to the queue.
func (db *DB) Recover(ctx context.Context) (int, error) {
	var n int
	err := db.inTx(ctx, "recover leases", func(tx pgx.Tx) error {
		if _, err := settleGivenUp(ctx, tx, 0, time.Now().UnixMilli()); err != nil {
			return err
		}
		now, err := dbNow(ctx, tx)
		if err != nil {
			return err
		}
		n, err = reap(ctx, tx, now)
		return err
	})
	return n, err
}

// hostColsOf lists the columns of a store.HostRow of the hosts row alias.
func hostColsOf(alias string) string {
	a := alias + "."
	return a + `id, ` + a + `origin, ` + a + `queued, ` + a + `robots_status, ` + a + `robots_body, coalesce(` + a +
		`robots_expires_at, 0), ` + a + `robots_failures, ` + a + `next_fetch_at, ` + a + `backoff_level, ` + a +
		`failures, ` + a + `delay_ms, ` + a + `latency_ms, ` + a + `next_allowed_at, coalesce(` + a + `next_revisit_at, 0), ` + a + `state, coalesce(` + a +
		`reason, '')`
}

// scanHost scans the columns of hostColsOf into h, then extra.
func scanHost(sc interface{ Scan(...any) error }, h *store.HostRow, extra ...any) error {
	var robots *int32
	dest := append([]any{&h.ID, &h.Origin, &h.Queued, &robots, &h.RobotsBody, &h.RobotsExpiresAt, &h.RobotsFailures,
		&h.NextFetchAt, &h.BackoffLevel, &h.Failures, &h.DelayMS, &h.LatencyMS, &h.NextAllowedAt, &h.NextRevisitAt,
		&h.State, &h.Reason},
		extra...)
	err := sc.Scan(dest...)
	if robots != nil {
		h.RobotsStatus.Int64, h.RobotsStatus.Valid = int64(*robots), true
	}
	return err
}

func collectHosts(rows pgx.Rows, err error) ([]store.HostRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.HostRow
	for rows.Next() {
		var h store.HostRow
		if err := scanHost(rows, &h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// ReserveHosts records, for each host, a time before which no crawler may
// send it a request (see store.HostReservation). A host's value never
// moves back.
func (db *DB) ReserveHosts(ctx context.Context, rs []store.HostReservation) error {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b store.HostReservation) int { return cmp.Compare(a.ID, b.ID) })
	ids, until := make([]int64, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		ids[i], until[i] = r.ID, r.Until.UnixMilli()
	}
	return db.inTx(ctx, "reserve hosts", func(tx pgx.Tx) error {
		// Locked in id order first, as every transaction locks hosts: the
		// update's join would take them in whatever order its plan reads.
		if _, err := lockHosts(ctx, tx, slices.Clone(ids)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hosts h SET next_allowed_at = greatest(h.next_allowed_at, r.until)
			FROM unnest($1::bigint[], $2::bigint[]) AS r(id, until) WHERE h.id = r.id`, ids, until)
		return err
	})
}

// SetInboundLinkIndex creates or drops link_targets, the index of which
// pages link to each URL, and the trigger that fills it as pages' links
// are stored: like an index, the database keeps it up to date, in the
// transaction that stores the page, whichever worker stores it. Creating
// it afterwards is one pass over the stored links.
func (db *DB) SetInboundLinkIndex(ctx context.Context, on bool) error {
	return db.inTx(ctx, "inbound link index", func(tx pgx.Tx) error {
		if !on {
			_, err := tx.Exec(ctx, `DROP TRIGGER IF EXISTS page_links_targets ON page_links; DROP TABLE IF EXISTS link_targets`)
			return err
		}
		// One worker at a time: the others find the table made.
		if _, err := tx.Exec(ctx, `LOCK TABLE page_links IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('link_targets') IS NOT NULL`).Scan(&exists); err != nil || exists {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE link_targets (
				to_url  text   NOT NULL,
				from_id bigint NOT NULL REFERENCES pages (id),
				PRIMARY KEY (to_url, from_id)
			);
			INSERT INTO link_targets (to_url, from_id) SELECT to_url, from_id FROM links ON CONFLICT DO NOTHING;
			CREATE TRIGGER page_links_targets AFTER INSERT ON page_links
				REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION link_targets_add()`)
		return err
	})
}

// Hosts returns the rows of the given host ids.
func (db *DB) Hosts(ctx context.Context, ids []int64) ([]store.HostRow, error) {
	out, err := collectHosts(db.w.Query(ctx, `SELECT `+hostColsOf("hosts")+` FROM hosts WHERE id = ANY($1)`, ids))
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", describe(err))
	}
	byID := make(map[int64]store.HostRow, len(out))
	for _, h := range out {
		byID[h.ID] = h
	}
	res := make([]store.HostRow, 0, len(ids))
	for _, id := range ids {
		h, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("host %d: no such host", id)
		}
		res = append(res, h)
	}
	return res, nil
}

// SaveHosts persists politeness state for several hosts in one
// transaction.
func (db *DB) SaveHosts(ctx context.Context, hs []store.HostPoliteness) error {
	if len(hs) == 0 {
		return nil
	}
	hs = slices.Clone(hs)
	slices.SortFunc(hs, func(a, b store.HostPoliteness) int { return cmp.Compare(a.ID, b.ID) })
	now := time.Now().UnixMilli()
	return db.inTx(ctx, "save hosts", func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, h := range hs {
			b.Queue(`UPDATE hosts SET next_fetch_at = $1, backoff_level = $2, failures = $3, delay_ms = $4, latency_ms = $5,
				crawl_delay_ms = $6, reason = $7, updated_at = $8 WHERE id = $9`,
				h.NextFetchAt.UnixMilli(), h.BackoffLevel, h.Failures, h.Delay.Milliseconds(), h.Latency.Milliseconds(),
				nullInt64(h.CrawlDelay.Milliseconds()), nullText(h.Reason), now, h.ID)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// SaveRobots stores a host's robots.txt result.
func (db *DB) SaveRobots(ctx context.Context, hostID int64, r store.RobotsRecord) error {
	_, err := db.w.Exec(ctx, `UPDATE hosts SET robots_status = $1, robots_body = $2, robots_error = $3,
		robots_fetched_at = $4, robots_expires_at = $5, robots_failures = $6, updated_at = $7 WHERE id = $8`,
		r.Status, r.Body, nullText(r.Err), r.FetchedAt.UnixMilli(), r.ExpiresAt.UnixMilli(), r.Failures,
		time.Now().UnixMilli(), hostID)
	if err != nil {
		return fmt.Errorf("save robots for host %d: %w", hostID, describe(err))
	}
	return nil
}

// GiveUpHost marks a host given up with reason and ends its live URLs.
// URLs of the host added afterwards, by any worker, are skipped with the
// same reason as they are added: a commit that queues URLs of a host
// reads its state under its row lock. It returns how many URLs it ended.
//
// It takes its locks in a commit's order, frontier rows before the host
// row: it ends the URLs first (waiting for commits that are recording
// some of them, which then lock the host freely), then marks the host,
// then ends the URLs that commits which locked the host in between
// queued. Those commits have ended by then, and any later one finds the
// host given up.
func (db *DB) GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error) {
	var n int
	err := db.inTx(ctx, fmt.Sprintf("give up host %d", hostID), func(tx pgx.Tx) error {
		now := time.Now().UnixMilli()
		var failed int
		if err := tx.QueryRow(ctx, `WITH ended AS (
				UPDATE frontier SET state = CASE WHEN attempts > 0 THEN 'failed' ELSE 'skipped' END, reason = $2,
					lease_until = NULL, updated_at = $3
				WHERE host_id = $1 AND state IN ('queued', 'leased') RETURNING state)
			SELECT count(*), count(*) FILTER (WHERE state = 'failed') FROM ended`, hostID, text(reason), now).Scan(&n, &failed); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE hosts SET state = 'given_up', reason = $1, updated_at = $2, queued = 0,
			errors = errors + $3 WHERE id = $4`, text(reason), now, failed, hostID); err != nil {
			return err
		}
		more, err := settleGivenUp(ctx, tx, hostID, now)
		n += more
		return err
	})
	return n, err
}

// settleGivenUp ends the queued and leased URLs of given-up hosts (of the
// host hostID, or of all when it is 0) with the host's reason: skipped if
// never tried, failed if tried. Failed ones count as the host's errors.
func settleGivenUp(ctx context.Context, tx pgx.Tx, hostID, now int64) (int, error) {
	rows, err := tx.Query(ctx, `WITH ended AS (
			UPDATE frontier f SET state = CASE WHEN f.attempts > 0 THEN 'failed' ELSE 'skipped' END,
				reason = coalesce(h.reason, 'host given up'), lease_until = NULL, updated_at = $1
			FROM hosts h
			WHERE h.id = f.host_id AND h.state = 'given_up' AND ($2 = 0 OR h.id = $2) AND f.state IN ('queued', 'leased')
			RETURNING f.host_id, f.state)
		SELECT host_id, count(*), count(*) FILTER (WHERE state = 'failed') FROM ended GROUP BY host_id ORDER BY host_id`,
		now, hostID)
	if err != nil {
		return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
	}
	failed := map[int64]int{}
	n := 0
	for rows.Next() {
		var id int64
		var ended, f int
		if err := rows.Scan(&id, &ended, &f); err != nil {
			rows.Close()
			return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
		}
		n += ended
		failed[id] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE hosts SET queued = 0 WHERE state = 'given_up' AND queued <> 0 AND ($1 = 0 OR id = $1)`,
		hostID); err != nil {
		return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
	}
	for id, f := range failed {
		if f == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE hosts SET errors = errors + $1 WHERE id = $2`, f, id); err != nil {
			return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
		}
	}
	return n, nil
}

// Pending reports how many URLs are queued or leased, and the earliest
// time a queued URL becomes due (zero if none is waiting for a retry time).
func (db *DB) Pending(ctx context.Context) (n int, nextDue time.Time, err error) {
	var next *int64
	err = db.w.QueryRow(ctx, `SELECT count(*), min(CASE WHEN state = 'queued' THEN next_attempt_at END)
		FROM frontier WHERE state IN ('queued', 'leased')`).Scan(&n, &next)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending: %w", describe(err))
	}
	if next != nil && *next > 0 {
		nextDue = time.UnixMilli(*next)
	}
	return n, nextDue, nil
}

// CountPages returns the number of page rows.
func (db *DB) CountPages(ctx context.Context) (int, error) {
	var n int
	if err := db.w.QueryRow(ctx, `SELECT count(*) FROM pages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pages: %w", describe(err))
	}
	return n, nil
}

// StartRun records the start of a run and returns its id.
func (db *DB) StartRun(ctx context.Context, config string) (int64, error) {
	var id int64
	if err := db.w.QueryRow(ctx, `INSERT INTO runs (started_at, config) VALUES ($1, $2) RETURNING id`,
		time.Now().UnixMilli(), text(config)).Scan(&id); err != nil {
		return 0, fmt.Errorf("start run: %w", describe(err))
	}
	return id, nil
}

// EndRun records how a run ended.
func (db *DB) EndRun(ctx context.Context, id int64, outcome string) error {
	if _, err := db.w.Exec(ctx, `UPDATE runs SET ended_at = $1, outcome = $2 WHERE id = $3`,
		time.Now().UnixMilli(), outcome, id); err != nil {
		return fmt.Errorf("end run %d: %w", id, describe(err))
	}
	return nil
}
