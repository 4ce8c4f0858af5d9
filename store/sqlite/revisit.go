package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// This file is the SQLite side of revisits: claiming URLs whose next fetch
// is due, keeping each host's next due time, recording a response for a
// URL that has a page already, and keeping versions.

// leaseCols are the frontier columns a claim returns, scanned by scanLeases.
const leaseCols = `id, url, depth, chain, attempts, claims, claims - fetch_claims, redirects, source, status,
	revisit_interval_ms`

// scanLeases reads the leases a claim returned and closes rows. Leases of
// URLs that have an HTTP status have been fetched before: their Prev is
// read from their page row, when they have one.
func (db *DB) scanLeases(ctx context.Context, tx *sql.Tx, rows *sql.Rows, h store.HostToken) ([]store.Lease, error) {
	var out []store.Lease
	intervals := map[int64]time.Duration{}
	for rows.Next() {
		l := store.Lease{HostID: h.ID, Token: h.Token}
		var status, interval sql.NullInt64
		if err := rows.Scan(&l.ID, &l.URL, &l.Depth, &l.Chain, &l.Attempts, &l.Claims, &l.Unended, &l.Redirects,
			&l.Source, &status, &interval); err != nil {
			rows.Close()
			return nil, err
		}
		if status.Valid {
			intervals[l.ID] = time.Duration(interval.Int64) * time.Millisecond
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, describe(err)
	}
	rows.Close()
	if len(intervals) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(intervals))
	for id := range intervals {
		ids = append(ids, id)
	}
	prev, err := tx.QueryContext(ctx, `SELECT url_id, status, final_url, coalesce(content_hash, ''), coalesce(headers, '')
		FROM pages WHERE url_id IN (?`+strings.Repeat(`, ?`, len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, describe(err)
	}
	defer prev.Close()
	byID := map[int64]*store.Fetched{}
	for prev.Next() {
		var id int64
		var status int
		var final, hash, headers string
		if err := prev.Scan(&id, &status, &final, &hash, &headers); err != nil {
			return nil, err
		}
		f := store.FetchedFrom(status, final, hash, headers)
		f.Interval = intervals[id]
		byID[id] = f
	}
	if err := prev.Err(); err != nil {
		return nil, describe(err)
	}
	for i := range out {
		out[i].Prev = byID[out[i].ID]
	}
	return out, nil
}

// ClaimRevisits leases up to n URLs of the host h whose next fetch is
// due, the longest overdue first, for lease, under the host lease h: it
// fails with store.ErrHostLost unless the lease is held and has not run
// out. A revisit starts a new round of attempts. When fewer than n are
// due, it also returns when the host's next scheduled URL is due (zero if
// none is).
func (db *DB) ClaimRevisits(ctx context.Context, h store.HostToken, n int, lease time.Duration) (_ []store.Lease, nextDue time.Time, _ error) {
	now := time.Now()
	hostID := h.ID
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, describe(err))
	}
	defer tx.Rollback()
	if err := heldLease(ctx, tx, h, now); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, err)
	}
	rows, err := tx.QueryContext(ctx, `UPDATE frontier SET state = 'leased', lease_until = ?, claims = claims + 1,
		attempts = 0, next_attempt_at = 0, next_fetch_at = NULL, updated_at = ?, lease_token = ?, worker = ?
		WHERE id IN (SELECT id FROM frontier WHERE host_id = ? AND next_fetch_at <= ? ORDER BY next_fetch_at, id LIMIT ?)
		RETURNING `+leaseCols,
		now.Add(lease).UnixMilli(), now.UnixMilli(), h.Token, db.worker.Load(), hostID, now.UnixMilli(), n)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, describe(err))
	}
	out, err := db.scanLeases(ctx, tx, rows, h)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, err)
	}
	var next sql.NullInt64
	if err := tx.QueryRowContext(ctx, `UPDATE hosts SET next_revisit_at =
		(SELECT min(next_fetch_at) FROM frontier WHERE host_id = ?1 AND next_fetch_at IS NOT NULL)
		WHERE id = ?1 RETURNING next_revisit_at`, hostID).Scan(&next); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, describe(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim revisits of host %d: %w", hostID, describe(err))
	}
	if len(out) < n && next.Valid {
		nextDue = time.UnixMilli(next.Int64)
	}
	// RETURNING gives rows in no promised order: the longest overdue first
	// is what was selected, the lowest id first is as good.
	sortLeases(out)
	return out, nextDue, nil
}

// nextRevisits collects, per host, the earliest next fetch scheduled by a
// batch of outcomes.
type nextRevisits map[int64]int64

func (m *nextRevisits) add(hostID, at int64) {
	if *m == nil {
		*m = nextRevisits{}
	}
	if cur, ok := (*m)[hostID]; !ok || at < cur {
		(*m)[hostID] = at
	}
}

// saveNextRevisits moves each host's next due time back to the earliest
// next fetch the batch scheduled, if that is sooner.
func (db *DB) saveNextRevisits(ctx context.Context, tx *sql.Tx, m nextRevisits) error {
	for id, at := range m {
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET next_revisit_at = min(coalesce(next_revisit_at, ?1), ?1)
			WHERE id = ?2`, at, id); err != nil {
			return fmt.Errorf("schedule revisits of host %d: %w", id, describe(err))
		}
	}
	return nil
}

// refetch records the response of o for a URL that has a page row: a 304,
// or a response that store.Fetched.Same finds unchanged, moves the page's
// fetch time (and headers) only; a changed one replaces the page, its
// links, data and items. The URL's revisit counters follow.
func (db *DB) refetch(ctx context.Context, tx *sql.Tx, o *store.Outcome, now int64) error {
	p := o.Page
	var pageID int64
	var status int
	var final, hash string
	err := tx.QueryRowContext(ctx, `SELECT id, status, final_url, coalesce(content_hash, '') FROM pages WHERE url_id = ?`,
		o.Lease.ID).Scan(&pageID, &status, &final, &hash)
	if err == sql.ErrNoRows {
		// A 304 to a URL without a page (a conditional request the crawler
		// did not send) has nothing to stand on: nothing to record.
		return nil
	}
	if err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, describe(err))
	}
	unchanged, notModified := 0, 0
	stored := store.FetchedFrom(status, final, hash, "")
	switch {
	case o.NotModified:
		unchanged, notModified = 1, 1
		_, err = tx.ExecContext(ctx, `UPDATE pages SET fetched_at = ?, duration_ms = ? WHERE id = ?`,
			p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), pageID)
	case stored.Same(p):
		unchanged = 1
		_, err = tx.ExecContext(ctx, `UPDATE pages SET fetched_at = ?, duration_ms = ?, headers = ? WHERE id = ?`,
			p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), nullStr(p.Headers), pageID)
	default:
		err = db.changePage(ctx, tx, pageID, o)
	}
	if err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, describe(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE frontier SET revisits = revisits + 1, unchanged = unchanged + ?,
		not_modified = not_modified + ? WHERE id = ?`, unchanged, notModified, o.Lease.ID); err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, describe(err))
	}
	return nil
}

// changePage records a changed response of o over the page pageID and,
// with history, as the URL's next version. A page stored without history
// (recrawl was off) first becomes a version of its own, so that the change
// has the version it changed from.
func (db *DB) changePage(ctx context.Context, tx *sql.Tx, pageID int64, o *store.Outcome) error {
	if o.History != nil {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM versions WHERE url_id = ?`, o.Lease.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := db.addVersion(ctx, tx, pageID, o.History); err != nil {
				return err
			}
		}
	}
	if err := db.replacePage(ctx, tx, pageID, o); err != nil {
		return err
	}
	if o.History != nil {
		return db.addVersion(ctx, tx, pageID, o.History)
	}
	return nil
}

// addVersion copies the page pageID as it stands, with its items, into a
// new version of its URL, after the URL's latest.
func (db *DB) addVersion(ctx context.Context, tx *sql.Tx, pageID int64, h *store.History) error {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO versions (url_id, url, prev_id, fetched_at, status, final_url,
		content_hash, size, body, body_encoding)
		SELECT url_id, url, (SELECT max(id) FROM versions WHERE url_id = pages.url_id), fetched_at, status, final_url,
		content_hash, size, CASE WHEN ?1 THEN body END, CASE WHEN ?1 THEN body_encoding END FROM pages WHERE id = ?2
		RETURNING id`, h.Bodies, pageID).Scan(&id); err != nil {
		return fmt.Errorf("add version: %w", describe(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO version_items (version_id, rule, idx, data)
		SELECT ?, rule, idx, data FROM items WHERE page_id = ?`, id, pageID); err != nil {
		return fmt.Errorf("add version: %w", describe(err))
	}
	return nil
}

// replacePage writes the response of o over the page row pageID, and its
// links, data and items over the old ones. The row keeps its id.
func (db *DB) replacePage(ctx context.Context, tx *sql.Tx, pageID int64, o *store.Outcome) error {
	p := o.Page
	trunc := 0
	if p.Truncated {
		trunc = 1
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pages SET final_url = ?, status = ?, content_type = ?, encoding = ?,
		headers = ?, fetched_at = ?, duration_ms = ?, size = ?, truncated = ?, body = ?, body_encoding = ?, content_hash = ?,
		title = ?, description = ?, canonical = ?, meta_robots = ?, lang = ?, fields_truncated = ?, simhash = ?,
		near_duplicate_of = ?, near_duplicate_reason = ? WHERE id = ?`,
		p.FinalURL, p.Status, nullStr(p.ContentType), nullStr(p.Encoding), nullStr(p.Headers), p.FetchedAt.UnixMilli(),
		p.Duration.Milliseconds(), p.Size, trunc, p.Body, nullStr(p.BodyEncoding), nullStr(p.ContentHash),
		nullStr(p.Title), nullStr(p.Description), nullStr(p.Canonical), nullStr(p.MetaRobots), nullStr(p.Lang),
		nullStr(strings.Join(p.FieldsTruncated, ",")), simhashValue(p), nullInt64(p.NearDuplicateOf), nullStr(p.NearReason),
		pageID); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM page_links WHERE page_id = ?`, `DELETE FROM page_data WHERE page_id = ?`,
		`DELETE FROM items WHERE page_id = ?`, `DELETE FROM simhash_bands WHERE page_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, pageID); err != nil {
			return err
		}
	}
	if err := db.insertLinks(ctx, tx, pageID, o.Links); err != nil {
		return fmt.Errorf("links: %w", err)
	}
	if err := db.insertData(ctx, tx, pageID, p); err != nil {
		return err
	}
	if err := db.reindexText(ctx, tx, pageID, o.Lease.URL, p); err != nil {
		return err
	}
	return db.indexSimHash(ctx, tx, o.Lease.HostID, pageID, p)
}

// scheduleBatch is how many URLs one transaction of ScheduleFetched
// schedules.
const scheduleBatch = 1000

// ScheduleFetched schedules every URL that ended (done or failed) without
// a schedule, fetched while recrawl was off or before revisits existed:
// each is due interval(url) after its last fetch (its page's fetch time,
// else its last update). It returns how many it scheduled. A crawl with
// recrawl on schedules the URLs it ends, so this finds nothing then.
func (db *DB) ScheduleFetched(ctx context.Context, interval func(url string) time.Duration) (int, error) {
	total := 0
	for {
		n, err := db.scheduleSome(ctx, interval)
		total += n
		if err != nil || n < scheduleBatch {
			return total, err
		}
	}
}

func (db *DB) scheduleSome(ctx context.Context, interval func(url string) time.Duration) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("schedule fetched URLs: %w", describe(err))
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT f.id, f.host_id, f.url, coalesce(p.fetched_at, f.updated_at)
		FROM frontier f LEFT JOIN pages p ON p.url_id = f.id
		WHERE f.next_fetch_at IS NULL AND f.state IN ('done', 'failed') ORDER BY f.id LIMIT ?`, scheduleBatch)
	if err != nil {
		return 0, fmt.Errorf("schedule fetched URLs: %w", describe(err))
	}
	type due struct {
		id, at int64
		iv     time.Duration
	}
	var batch []due
	var next nextRevisits
	for rows.Next() {
		var id, at int64
		var host sql.NullInt64
		var u string
		if err := rows.Scan(&id, &host, &u, &at); err != nil {
			rows.Close()
			return 0, fmt.Errorf("schedule fetched URLs: %w", err)
		}
		iv := interval(u)
		batch = append(batch, due{id, at + iv.Milliseconds(), iv})
		if host.Valid {
			next.add(host.Int64, at+iv.Milliseconds())
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return 0, fmt.Errorf("schedule fetched URLs: %w", describe(err))
	}
	rows.Close()
	for _, d := range batch {
		if _, err := tx.ExecContext(ctx, `UPDATE frontier SET next_fetch_at = ?, revisit_interval_ms = ? WHERE id = ?`,
			d.at, d.iv.Milliseconds(), d.id); err != nil {
			return 0, fmt.Errorf("schedule fetched URLs: %w", describe(err))
		}
	}
	if err := db.saveNextRevisits(ctx, tx, next); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("schedule fetched URLs: %w", describe(err))
	}
	return len(batch), nil
}
