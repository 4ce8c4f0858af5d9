package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crawler-dev/crawler/store"
)

type stmts struct {
	finish, insertPage, hostQueued, hostCounts, hostID, insertHost *sql.Stmt
	shorter, requeue, insertLinks                                  *sql.Stmt

	mu    sync.Mutex
	multi map[string]*sql.Stmt // multi-row inserts by kind and row count; guarded by mu
}

func (s *stmts) close() {
	for _, st := range []*sql.Stmt{s.finish, s.insertPage, s.hostQueued, s.hostCounts, s.hostID, s.insertHost, s.shorter, s.requeue, s.insertLinks} {
		if st != nil {
			st.Close()
		}
	}
	s.mu.Lock()
	for _, st := range s.multi {
		st.Close()
	}
	s.mu.Unlock()
}

func (db *DB) prepare(ctx context.Context) error {
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.w.PrepareContext(ctx, q)
		return st
	}
	db.st = stmts{
		multi: map[string]*sql.Stmt{},
		// An ending outcome (not queued again) records the claims it
		// ended at, and its schedule when recrawl is on. The status is
		// the last HTTP status the URL got: an outcome without one keeps
		// it. The row must still be leased under the same claim, by the
		// same host lease.
		finish: p(`UPDATE frontier SET state = ?1, reason = ?2, status = coalesce(?3, status), attempts = attempts + ?4,
			next_attempt_at = ?5, last_error = ?6, lease_until = NULL, updated_at = ?7,
			next_fetch_at = ?10, revisit_interval_ms = coalesce(?11, revisit_interval_ms),
			fetch_claims = CASE WHEN ?1 = 'queued' THEN fetch_claims ELSE claims END
			WHERE id = ?8 AND state = 'leased' AND claims = ?9 AND lease_token = ?12`),
		insertPage: p(`INSERT INTO pages (url_id, url, final_url, status, content_type, encoding, headers, fetched_at,
			duration_ms, size, truncated, body, body_encoding, content_hash, title, description, canonical,
			meta_robots, lang, depth, fields_truncated, simhash, near_duplicate_of, near_duplicate_reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (url_id) DO NOTHING RETURNING id`),
		insertLinks: p(`INSERT INTO page_links (page_id, links) VALUES (?, CAST(? AS TEXT))`),
		hostQueued:  p(`UPDATE hosts SET queued = queued + ? WHERE id = ?`),
		hostCounts:  p(`UPDATE hosts SET pages = pages + ?, errors = errors + ? WHERE id = ?`),
		hostID: p(`SELECT id, CASE WHEN state = 'given_up' THEN coalesce(reason, 'host given up') ELSE '' END
			FROM hosts WHERE origin = ?`),
		insertHost: p(`INSERT INTO hosts (origin, updated_at) VALUES (?, ?) ON CONFLICT (origin) DO NOTHING`),
		// A queued URL found by a shorter path: the parent that gave the
		// smaller depth becomes its parent.
		shorter: p(`UPDATE frontier SET
			parent_id = CASE WHEN ?1 < depth THEN ?2 ELSE parent_id END,
			source = CASE WHEN ?1 < depth THEN ?3 ELSE source END,
			redirects = CASE WHEN ?1 < depth THEN ?4 ELSE redirects END,
			depth = min(depth, ?1), chain = min(chain, ?5), updated_at = ?6
			WHERE url = ?7 AND state = 'queued' AND (depth > ?1 OR chain > ?5)`),
		// A URL skipped only for its path, found by a path that passes.
		requeue: p(`UPDATE frontier SET state = 'queued', reason = NULL, path_limited = 0, host_id = ?, depth = ?,
			chain = ?, parent_id = ?, source = ?, redirects = ?, updated_at = ?
			WHERE url = ? AND state = 'skipped' AND path_limited = 1`),
	}
	if err != nil {
		return err
	}
	if err := db.prepareMulti(ctx); err != nil {
		return err
	}
	return db.prepareData(ctx)
}

// hostCache maps origins to host ids, and to the reason of hosts given up.
// Bounded: it is cleared when full, and a miss costs one indexed lookup.
type hostCache struct {
	mu sync.Mutex
	m  map[string]cachedHost // guarded by mu
}

type cachedHost struct {
	id      int64
	givenUp string // the host's reason when it is given up, else ""
}

func (c *hostCache) set(origin string, h cachedHost) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= hostCacheMax {
		clear(c.m)
	}
	c.m[origin] = h
}

const hostCacheMax = 1 << 17

var errNoOrigin = errors.New("queued URL without origin")

// hostTx returns the host row of origin, creating it if needed.
func (db *DB) hostTx(ctx context.Context, tx *sql.Tx, cache *hostCache, origin string, now int64) (cachedHost, error) {
	cache.mu.Lock()
	h, ok := cache.m[origin]
	cache.mu.Unlock()
	if ok {
		return h, nil
	}
	if _, err := tx.StmtContext(ctx, db.st.insertHost).ExecContext(ctx, origin, now); err != nil {
		return h, fmt.Errorf("insert host %s: %w", origin, describe(err))
	}
	if err := tx.StmtContext(ctx, db.st.hostID).QueryRowContext(ctx, origin).Scan(&h.id, &h.givenUp); err != nil {
		return h, fmt.Errorf("host id %s: %w", origin, describe(err))
	}
	cache.set(origin, h)
	return h, nil
}

// Add inserts URLs (seeds, URL lists, sitemap entries) in one transaction and
// returns the number of newly queued URLs per host.
func (db *DB) Add(ctx context.Context, urls []store.NewURL) (map[int64]int, error) {
	res, err := db.Commit(ctx, []store.Outcome{{Discovered: urls}})
	if err != nil {
		return nil, err
	}
	return res.NewByHost, nil
}

// Commit records a batch of outcomes in one transaction: for each, the
// frontier row's new state, the page row, its links, and the URLs it
// discovered. An outcome whose lease is no longer held (its row is not in
// state leased, or leased by a later claim: Lease.Claims is the lease's
// token) is ignored entirely, so a page is never recorded twice.
// Outcomes with a zero Lease.ID only add their Discovered URLs.
func (db *DB) Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error) {
	res := store.CommitResult{NewByHost: map[int64]int{}}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("commit batch: %w", describe(err))
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	finish := tx.StmtContext(ctx, db.st.finish)
	type counts struct{ pages, errors int }
	hostCounts := map[int64]counts{}
	var revisits nextRevisits
	var discovered []store.NewURL
	for i := range batch {
		o := &batch[i]
		if o.Lease.ID != 0 {
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
				if o.Lease.HostID != 0 {
					revisits.add(o.Lease.HostID, o.Schedule.At.UnixMilli())
				}
			}
			r, err := finish.ExecContext(ctx, o.State, nullStr(o.Reason), nullInt(o.Status), attempts, retryAt,
				nullStr(o.Err), now, o.Lease.ID, o.Lease.Claims, nextFetch, interval, o.Lease.Token)
			if err != nil {
				return res, fmt.Errorf("finish %s: %w", o.Lease.URL, describe(err))
			}
			if n, _ := r.RowsAffected(); n == 0 {
				res.Stale++
				continue
			}
			if o.State == store.StateQueued {
				res.NewByHost[o.Lease.HostID]++
			}
			c := hostCounts[o.Lease.HostID]
			if o.State == store.StateFailed {
				c.errors++
			}
			if o.Page != nil {
				added, err := db.recordPage(ctx, tx, o, now)
				if err != nil {
					return res, err
				}
				if added {
					c.pages++
					res.Pages++
				}
			}
			if o.Lease.HostID != 0 {
				hostCounts[o.Lease.HostID] = c
			}
		}
		discovered = append(discovered, o.Discovered...)
	}
	if err := db.insertURLs(ctx, tx, discovered, now, res.NewByHost); err != nil {
		return res, err
	}
	hq := tx.StmtContext(ctx, db.st.hostQueued)
	for id, n := range res.NewByHost {
		if _, err := hq.ExecContext(ctx, n, id); err != nil {
			return res, fmt.Errorf("count queued for host %d: %w", id, describe(err))
		}
	}
	if res.Pages > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE workers SET pages = pages + ? WHERE id = ?`, res.Pages, db.worker.Load()); err != nil {
			return res, fmt.Errorf("count pages of worker: %w", describe(err))
		}
	}
	hc := tx.StmtContext(ctx, db.st.hostCounts)
	for id, c := range hostCounts {
		if c.pages == 0 && c.errors == 0 {
			continue
		}
		if _, err := hc.ExecContext(ctx, c.pages, c.errors, id); err != nil {
			return res, fmt.Errorf("count pages for host %d: %w", id, describe(err))
		}
	}
	if err := db.saveNextRevisits(ctx, tx, revisits); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit batch: %w", describe(err))
	}
	return res, nil
}

// recordPage records the response of o: a new page row for a URL fetched
// for the first time (added), else the stored page brought up to date
// (see refetch).
func (db *DB) recordPage(ctx context.Context, tx *sql.Tx, o *store.Outcome, now int64) (added bool, err error) {
	if !o.NotModified {
		added, err = db.insertPage(ctx, tx, o)
		if err != nil || added {
			return added, err
		}
	}
	return false, db.refetch(ctx, tx, o, now)
}

// insertPage inserts the page row of o, with its links, data and items,
// unless the URL has one already (a revisit): then it writes nothing and
// returns false.
func (db *DB) insertPage(ctx context.Context, tx *sql.Tx, o *store.Outcome) (bool, error) {
	p := o.Page
	trunc := 0
	if p.Truncated {
		trunc = 1
	}
	var pageID int64
	err := tx.StmtContext(ctx, db.st.insertPage).QueryRowContext(ctx, o.Lease.ID, o.Lease.URL, p.FinalURL, p.Status,
		nullStr(p.ContentType), nullStr(p.Encoding), nullStr(p.Headers), p.FetchedAt.UnixMilli(),
		p.Duration.Milliseconds(), p.Size, trunc, p.Body, nullStr(p.BodyEncoding), nullStr(p.ContentHash),
		nullStr(p.Title), nullStr(p.Description), nullStr(p.Canonical), nullStr(p.MetaRobots), nullStr(p.Lang),
		o.Lease.Depth, nullStr(strings.Join(p.FieldsTruncated, ",")), simhashValue(p), nullInt64(p.NearDuplicateOf),
		nullStr(p.NearReason)).Scan(&pageID)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert page %s: %w", o.Lease.URL, describe(err))
	}
	if err := db.insertLinks(ctx, tx, pageID, o.Links); err != nil {
		return false, fmt.Errorf("insert links of %s: %w", o.Lease.URL, err)
	}
	if err := db.insertData(ctx, tx, pageID, p); err != nil {
		return false, err
	}
	if err := db.indexSimHash(ctx, tx, o.Lease.HostID, pageID, p); err != nil {
		return false, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
	}
	if o.History != nil {
		if err := db.addVersion(ctx, tx, pageID, o.History); err != nil {
			return false, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
		}
	}
	if err := db.indexText(ctx, tx, pageID, o.Lease.URL, p); err != nil {
		return false, err
	}
	return true, nil
}

// Claim leases up to n due URLs of the host h, shallowest first, for
// lease, under the host lease h: it fails with store.ErrHostLost unless
// the lease is held and has not run out. When fewer than n are due, it
// also returns when the next queued URL of the host becomes due (zero if
// none waits).
func (db *DB) Claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) (_ []store.Lease, nextDue time.Time, _ error) {
	out, err := db.claim(ctx, h, n, lease)
	if err != nil || len(out) == n {
		return out, time.Time{}, err
	}
	var next sql.NullInt64
	if err := db.w.QueryRowContext(ctx, `SELECT min(next_attempt_at) FROM frontier WHERE host_id = ? AND state = 'queued'`,
		h.ID).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim host %d: %w", h.ID, describe(err))
	}
	if next.Valid {
		nextDue = time.UnixMilli(next.Int64)
	}
	return out, nextDue, nil
}

func (db *DB) claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, error) {
	now := time.Now()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim host %d: %w", h.ID, describe(err))
	}
	defer tx.Rollback()
	if err := heldLease(ctx, tx, h, now); err != nil {
		return nil, fmt.Errorf("claim host %d: %w", h.ID, err)
	}
	rows, err := tx.QueryContext(ctx, `UPDATE frontier SET state = 'leased', lease_until = ?, claims = claims + 1, updated_at = ?,
			lease_token = ?, worker = ?
		WHERE id IN (SELECT id FROM frontier WHERE host_id = ? AND state = 'queued' AND next_attempt_at <= ?
			ORDER BY depth, id LIMIT ?)
		RETURNING `+leaseCols,
		now.Add(lease).UnixMilli(), now.UnixMilli(), h.Token, db.worker.Load(), h.ID, now.UnixMilli(), n)
	if err != nil {
		return nil, fmt.Errorf("claim host %d: %w", h.ID, describe(err))
	}
	out, err := db.scanLeases(ctx, tx, rows, h)
	if err != nil {
		return nil, fmt.Errorf("claim host %d: %w", h.ID, err)
	}
	if len(out) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET queued = queued - ? WHERE id = ?`, len(out), h.ID); err != nil {
			return nil, fmt.Errorf("claim host %d: %w", h.ID, describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim host %d: %w", h.ID, describe(err))
	}
	// RETURNING gives rows in no promised order; the frontier order is ours to keep.
	sortLeases(out)
	return out, nil
}

func sortLeases(ls []store.Lease) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && (ls[j].Depth < ls[j-1].Depth || ls[j].Depth == ls[j-1].Depth && ls[j].ID < ls[j-1].ID); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// Release returns leased URLs to the queue untouched (no attempt counted),
// e.g. URLs claimed but not fetched when the crawl stops.
func (db *DB) Release(ctx context.Context, leases []store.Lease) error {
	if len(leases) == 0 {
		return nil
	}
	batch := make([]store.Outcome, len(leases))
	for i, l := range leases {
		batch[i] = store.Outcome{Lease: l, State: store.StateQueued}
	}
	_, err := db.Commit(ctx, batch)
	return err
}

// Recover returns every leased URL to the queue and ends every host lease.
// It runs at startup, when the lock file guarantees that no other process
// holds a lease, so leases left by a crashed run are reclaimed at once
// rather than after they expire.
func (db *DB) Recover(ctx context.Context) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("recover leases: %w", describe(err))
	}
	defer tx.Rollback()
	// Databases written by earlier versions may hold queued URLs of hosts
	// given up: end them now, or the run would wait for them for ever.
	if _, err := settleGivenUp(ctx, tx, 0, time.Now().UnixMilli()); err != nil {
		return 0, fmt.Errorf("recover leases: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET queued = queued + (SELECT count(*) FROM frontier f
		WHERE f.host_id = hosts.id AND f.state = 'leased')
		WHERE id IN (SELECT DISTINCT host_id FROM frontier WHERE state = 'leased')`); err != nil {
		return 0, fmt.Errorf("recover leases: %w", describe(err))
	}
	r, err := tx.ExecContext(ctx, `UPDATE frontier SET state = 'queued', lease_until = NULL, lease_token = NULL
		WHERE state = 'leased'`)
	if err != nil {
		return 0, fmt.Errorf("recover leases: %w", describe(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET lease_token = NULL, lease_owner = NULL, lease_until = NULL
		WHERE lease_token IS NOT NULL`); err != nil {
		return 0, fmt.Errorf("recover leases: %w", describe(err))
	}
	n, _ := r.RowsAffected()
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("recover leases: %w", describe(err))
	}
	return int(n), nil
}

const hostCols = `id, origin, queued, robots_status, robots_body, coalesce(robots_expires_at, 0), robots_failures,
	next_fetch_at, backoff_level, failures, delay_ms, latency_ms, next_allowed_at, coalesce(next_revisit_at, 0), state,
	coalesce(reason, '')`

func scanHost(sc interface{ Scan(...any) error }) (store.HostRow, error) {
	var h store.HostRow
	err := sc.Scan(&h.ID, &h.Origin, &h.Queued, &h.RobotsStatus, &h.RobotsBody, &h.RobotsExpiresAt, &h.RobotsFailures,
		&h.NextFetchAt, &h.BackoffLevel, &h.Failures, &h.DelayMS, &h.LatencyMS, &h.NextAllowedAt, &h.NextRevisitAt,
		&h.State, &h.Reason)
	return h, err
}

// ReserveHosts records, for each host, a time before which no crawler may
// send it a request: a crawler writes it, covering the requests it is about
// to send plus the host's interval, before it sends them, so that after a
// crash its successor starts no sooner than the host's Crawl-delay and rate
// allow. A host's value never moves back.
func (db *DB) ReserveHosts(ctx context.Context, rs []store.HostReservation) error {
	if len(rs) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("reserve hosts: %w", describe(err))
	}
	defer tx.Rollback()
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET next_allowed_at = max(next_allowed_at, ?) WHERE id = ?`,
			r.Until.UnixMilli(), r.ID); err != nil {
			return fmt.Errorf("reserve host %d: %w", r.ID, describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("reserve hosts: %w", describe(err))
	}
	return nil
}

// SetInboundLinkIndex creates or drops link_targets, the index of which
// pages link to each URL, and the trigger that fills it as pages' links
// are stored: like an index, the database keeps it up to date, in the
// transaction that stores the page. It makes "which pages link to X" a
// lookup instead of a read of every stored link, and costs the writer
// about as much as the rest of its work. Creating it afterwards is one
// pass over the stored links.
func (db *DB) SetInboundLinkIndex(ctx context.Context, on bool) error {
	if err := db.setInboundLinkIndex(ctx, on); err != nil {
		return fmt.Errorf("inbound link index: %w", describe(err))
	}
	return nil
}

func (db *DB) setInboundLinkIndex(ctx context.Context, on bool) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if !on {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS page_links_targets; DROP TABLE IF EXISTS link_targets`); err != nil {
			return err
		}
		return tx.Commit()
	}
	var exists bool
	if err := tx.QueryRowContext(ctx, dialect.HasTable, "link_targets").Scan(&exists); err != nil || exists {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE link_targets (
			to_url  TEXT    NOT NULL,
			from_id INTEGER NOT NULL REFERENCES pages (id),
			PRIMARY KEY (to_url, from_id)
		) WITHOUT ROWID;
		INSERT OR IGNORE INTO link_targets (to_url, from_id) SELECT to_url, from_id FROM links;
		CREATE TRIGGER page_links_targets AFTER INSERT ON page_links BEGIN
			INSERT OR IGNORE INTO link_targets (to_url, from_id)
			SELECT j.value ->> 0, NEW.page_id FROM json_each(NEW.links) AS j;
		END`); err != nil {
		return err
	}
	return tx.Commit()
}

// Hosts returns the rows of the given host ids.
func (db *DB) Hosts(ctx context.Context, ids []int64) ([]store.HostRow, error) {
	var out []store.HostRow
	for _, id := range ids {
		h, err := scanHost(db.w.QueryRowContext(ctx, `SELECT `+hostCols+` FROM hosts WHERE id = ?`, id))
		if err != nil {
			return nil, fmt.Errorf("host %d: %w", id, describe(err))
		}
		out = append(out, h)
	}
	return out, nil
}

// SaveHosts persists politeness state for several hosts in one transaction.
func (db *DB) SaveHosts(ctx context.Context, hs []store.HostPoliteness) error {
	if len(hs) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save hosts: %w", describe(err))
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	for _, h := range hs {
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET next_fetch_at = ?, backoff_level = ?, failures = ?,
			delay_ms = ?, latency_ms = ?, crawl_delay_ms = ?, reason = ?, updated_at = ? WHERE id = ?`,
			h.NextFetchAt.UnixMilli(), h.BackoffLevel, h.Failures, h.Delay.Milliseconds(), h.Latency.Milliseconds(),
			nullInt64(h.CrawlDelay.Milliseconds()), nullStr(h.Reason), now, h.ID); err != nil {
			return fmt.Errorf("save host %d: %w", h.ID, describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save hosts: %w", describe(err))
	}
	return nil
}

// SaveRobots stores a host's robots.txt result.
func (db *DB) SaveRobots(ctx context.Context, hostID int64, r store.RobotsRecord) error {
	_, err := db.w.ExecContext(ctx, `UPDATE hosts SET robots_status = ?, robots_body = ?, robots_error = ?,
		robots_fetched_at = ?, robots_expires_at = ?, robots_failures = ?, updated_at = ? WHERE id = ?`,
		r.Status, r.Body, nullStr(r.Err), r.FetchedAt.UnixMilli(), r.ExpiresAt.UnixMilli(), r.Failures,
		time.Now().UnixMilli(), hostID)
	if err != nil {
		return fmt.Errorf("save robots for host %d: %w", hostID, describe(err))
	}
	return nil
}

// GiveUpHost marks a host given up with reason and ends its live URLs (see
// settleGivenUp). URLs of the host added afterwards are skipped with the
// same reason as they are added. It returns how many URLs it ended.
func (db *DB) GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("give up host %d: %w", hostID, describe(err))
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	var origin string
	if err := tx.QueryRowContext(ctx, `UPDATE hosts SET state = 'given_up', reason = ?, updated_at = ? WHERE id = ?
		RETURNING origin`, reason, now, hostID).Scan(&origin); err != nil {
		return 0, fmt.Errorf("give up host %d: %w", hostID, describe(err))
	}
	n, err := settleGivenUp(ctx, tx, hostID, now)
	if err != nil {
		return 0, fmt.Errorf("give up host %d: %w", hostID, err)
	}
	// Every write goes through the one writer connection, which this
	// transaction holds until it commits: a transaction adding URLs can
	// only start after this, and it finds the host given up in the cache.
	db.hosts.set(origin, cachedHost{id: hostID, givenUp: reason})
	if err := tx.Commit(); err != nil {
		db.hosts.mu.Lock()
		delete(db.hosts.m, origin)
		db.hosts.mu.Unlock()
		return 0, fmt.Errorf("give up host %d: %w", hostID, describe(err))
	}
	return n, nil
}

// settleGivenUp ends the queued and leased URLs of given-up hosts (of the
// host hostID, or of all when it is 0) with the host's reason: skipped if
// never tried, failed if tried. Failed ones count as the host's errors.
func settleGivenUp(ctx context.Context, tx *sql.Tx, hostID, now int64) (int, error) {
	failed := map[int64]int{}
	n := 0
	// One statement per state, so that each uses its partial index.
	for _, state := range []string{store.StateQueued, store.StateLeased} {
		rows, err := tx.QueryContext(ctx, `UPDATE frontier SET state = CASE WHEN attempts > 0 THEN 'failed' ELSE 'skipped' END,
			reason = (SELECT coalesce(h.reason, 'host given up') FROM hosts h WHERE h.id = frontier.host_id),
			lease_until = NULL, updated_at = ?1
			WHERE state = '`+state+`' AND host_id IN (SELECT id FROM hosts WHERE state = 'given_up' AND (?2 = 0 OR id = ?2))
			RETURNING host_id, state`, now, hostID)
		if err != nil {
			return 0, fmt.Errorf("end URLs of given-up hosts: %w", describe(err))
		}
		for rows.Next() {
			var id int64
			var st string
			if err := rows.Scan(&id, &st); err != nil {
				rows.Close()
				return 0, fmt.Errorf("end URLs of given-up hosts: %w", err)
			}
			n++
			if st == store.StateFailed {
				failed[id]++
			}
		}
		if err := rows.Close(); err != nil {
			return 0, fmt.Errorf("end URLs of given-up hosts: %w", describe(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET queued = 0 WHERE state = 'given_up' AND queued != 0`); err != nil {
		return 0, fmt.Errorf("end URLs of given-up hosts: %w", describe(err))
	}
	for id, f := range failed {
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET errors = errors + ? WHERE id = ?`, f, id); err != nil {
			return 0, fmt.Errorf("end URLs of given-up hosts: %w", describe(err))
		}
	}
	return n, nil
}

// Pending reports how many URLs are queued or leased, and the earliest time
// a queued URL becomes due (zero if none is waiting for a retry time).
func (db *DB) Pending(ctx context.Context) (n int, nextDue time.Time, err error) {
	var next sql.NullInt64
	err = db.w.QueryRowContext(ctx, `SELECT count(*), min(CASE WHEN state = 'queued' THEN next_attempt_at END)
		FROM frontier WHERE state IN ('queued', 'leased')`).Scan(&n, &next)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count pending: %w", describe(err))
	}
	if next.Valid && next.Int64 > 0 {
		nextDue = time.UnixMilli(next.Int64)
	}
	return n, nextDue, nil
}

// CountPages returns the number of page rows.
func (db *DB) CountPages(ctx context.Context) (int, error) {
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM pages`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pages: %w", describe(err))
	}
	return n, nil
}

// StartRun records the start of a run and returns its id.
func (db *DB) StartRun(ctx context.Context, config string) (int64, error) {
	r, err := db.w.ExecContext(ctx, `INSERT INTO runs (started_at, config) VALUES (?, ?)`, time.Now().UnixMilli(), config)
	if err != nil {
		return 0, fmt.Errorf("start run: %w", describe(err))
	}
	return r.LastInsertId()
}

// EndRun records how a run ended.
func (db *DB) EndRun(ctx context.Context, id int64, outcome string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE runs SET ended_at = ?, outcome = ? WHERE id = ?`, time.Now().UnixMilli(), outcome, id)
	if err != nil {
		return fmt.Errorf("end run %d: %w", id, describe(err))
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
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

// rowsPerInsert is how many rows one multi-row INSERT carries: far fewer
// trips through database/sql and cgo than one statement per row.
const rowsPerInsert = 64

// Multi-row INSERT statements, prepared for every row count at open: they
// cannot be prepared on demand, because the writer's only connection is
// busy with the transaction that needs them.
var multiInserts = []multiInsert{urlsInsert}

// multiInsert is a multi-row INSERT: head, a row per row, then tail.
type multiInsert struct{ kind, head, row, tail string }

// urlsInsert adds frontier rows.
var urlsInsert = multiInsert{"urls", `INSERT INTO frontier (url, host_id, depth, chain, parent_id, source, state, reason,
	path_limited, redirects, lastmod, discovered_at, updated_at) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	` ON CONFLICT (url) DO NOTHING RETURNING host_id, state`}

func (db *DB) prepareMulti(ctx context.Context) error {
	for _, m := range multiInserts {
		for n := 1; n <= rowsPerInsert; n++ {
			if _, err := db.multiStmt(ctx, m.kind, m.head, m.row, m.tail, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// multiStmt returns the prepared INSERT of n rows: head, then n groups of
// row, then tail.
func (db *DB) multiStmt(ctx context.Context, kind, head, row, tail string, n int) (*sql.Stmt, error) {
	key := kind + strconv.Itoa(n)
	db.st.mu.Lock()
	defer db.st.mu.Unlock()
	if st, ok := db.st.multi[key]; ok {
		return st, nil
	}
	var b strings.Builder
	b.WriteString(head)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	st, err := db.w.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	db.st.multi[key] = st
	return st, nil
}

// insertLinks records the links of page pageID in one page_links row
// (see store.LinkEncoder).
func (db *DB) insertLinks(ctx context.Context, tx *sql.Tx, pageID int64, links []store.Link) error {
	if len(links) == 0 {
		return nil
	}
	// Bound as a BLOB, which needs no copy, and stored as TEXT: SQLite's
	// JSON functions read a BLOB as JSONB.
	value := db.links.Encode(links)
	if _, err := tx.StmtContext(ctx, db.st.insertLinks).ExecContext(ctx, pageID, value); err != nil {
		return describe(err)
	}
	return nil
}

// insertURLs adds frontier rows and counts the newly queued ones per host
// into newByHost. A URL already present keeps its row unless it is found by
// a shorter path (see store.NewURL).
func (db *DB) insertURLs(ctx context.Context, tx *sql.Tx, urls []store.NewURL, now int64, newByHost map[int64]int) error {
	const cols = 13
	args := make([]any, 0, cols*min(len(urls), rowsPerInsert))
	hostIDs := make([]int64, 0, min(len(urls), rowsPerInsert))
	for len(urls) > 0 {
		n := min(len(urls), rowsPerInsert)
		args, hostIDs = args[:0], hostIDs[:0]
		for _, u := range urls[:n] {
			var hostID, lastmod any
			state, reason := u.State, u.Reason
			if u.State == store.StateQueued {
				if u.Origin == "" {
					return fmt.Errorf("add %s: %w", u.URL, errNoOrigin)
				}
				h, err := db.hostTx(ctx, tx, &db.hosts, u.Origin, now)
				if err != nil {
					return err
				}
				hostID = h.id
				if h.givenUp != "" {
					state, reason = store.StateSkipped, h.givenUp
				}
			}
			var id int64 // the host of a URL queued, 0 for one skipped
			if state == store.StateQueued {
				id = hostID.(int64)
			}
			hostIDs = append(hostIDs, id)
			if !u.LastMod.IsZero() {
				lastmod = u.LastMod.UnixMilli()
			}
			limited := 0
			if u.PathLimited && state == store.StateSkipped {
				limited = 1
			}
			args = append(args, u.URL, hostID, u.Depth, u.Chain, nullInt64(u.ParentID), u.Source, state, nullStr(reason),
				limited, u.Redirects, lastmod, now, now)
		}
		m := urlsInsert
		st, err := db.multiStmt(ctx, m.kind, m.head, m.row, m.tail, n)
		if err != nil {
			return fmt.Errorf("add URLs: %w", describe(err))
		}
		rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("add URLs: %w", describe(err))
		}
		inserted := 0
		for rows.Next() {
			var hostID sql.NullInt64
			var state string
			if err := rows.Scan(&hostID, &state); err != nil {
				rows.Close()
				return fmt.Errorf("add URLs: %w", err)
			}
			inserted++
			if state == store.StateQueued && hostID.Valid {
				newByHost[hostID.Int64]++
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("add URLs: %w", describe(err))
		}
		rows.Close()
		if inserted < n {
			// Some were known: those found by a shorter path take it.
			if err := db.shorterPaths(ctx, tx, urls[:n], hostIDs, now, newByHost); err != nil {
				return err
			}
		}
		urls = urls[n:]
	}
	return nil
}

// shorterPaths applies the URLs queued in urls (hostIDs[i] is the host of
// urls[i], 0 if it is not queued) to rows that exist already: a queued row
// takes the smaller depth and chain; a row skipped for its path is queued.
// URLs just inserted are unchanged by both statements.
func (db *DB) shorterPaths(ctx context.Context, tx *sql.Tx, urls []store.NewURL, hostIDs []int64, now int64, newByHost map[int64]int) error {
	shorter, requeue := tx.StmtContext(ctx, db.st.shorter), tx.StmtContext(ctx, db.st.requeue)
	for i, u := range urls {
		host := hostIDs[i]
		if host == 0 {
			continue
		}
		if _, err := shorter.ExecContext(ctx, u.Depth, nullInt64(u.ParentID), u.Source, u.Redirects, u.Chain, now, u.URL); err != nil {
			return fmt.Errorf("add %s: %w", u.URL, describe(err))
		}
		r, err := requeue.ExecContext(ctx, host, u.Depth, u.Chain, nullInt64(u.ParentID), u.Source, u.Redirects, now, u.URL)
		if err != nil {
			return fmt.Errorf("add %s: %w", u.URL, describe(err))
		}
		if n, _ := r.RowsAffected(); n > 0 {
			newByHost[host]++
		}
	}
	return nil
}
