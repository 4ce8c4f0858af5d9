package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

// This file is the PostgreSQL side of revisits, versions and
// near-duplicates, the twin of store/sqlite's revisit.go and neardup.go:
// claiming URLs whose next fetch is due, recording a response for a URL
// that has a page already, keeping versions, and the SimHash band index.

// leaseCols are the frontier columns (of f) a claim returns, scanned by
// scanLeases.
const leaseCols = `f.id, f.url, f.depth, f.chain, f.attempts, f.claims, f.claims - f.fetch_claims, f.redirects, f.source,
	f.status, f.revisit_interval_ms`

// scanLeases reads the leases a claim returned under the host lease h and
// closes rows. Leases of URLs that have an HTTP status have been fetched
// before: their Prev is read from their page row, when they have one.
func scanLeases(ctx context.Context, tx pgx.Tx, rows pgx.Rows, h store.HostToken) ([]store.Lease, error) {
	var out []store.Lease
	intervals := map[int64]time.Duration{}
	for rows.Next() {
		l := store.Lease{HostID: h.ID, Token: h.Token}
		var status *int32
		var interval *int64
		if err := rows.Scan(&l.ID, &l.URL, &l.Depth, &l.Chain, &l.Attempts, &l.Claims, &l.Unended, &l.Redirects,
			&l.Source, &status, &interval); err != nil {
			rows.Close()
			return nil, err
		}
		if status != nil {
			var iv time.Duration
			if interval != nil {
				iv = time.Duration(*interval) * time.Millisecond
			}
			intervals[l.ID] = iv
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(intervals) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(intervals))
	for id := range intervals {
		ids = append(ids, id)
	}
	prev, err := tx.Query(ctx, `SELECT url_id, status, final_url, coalesce(content_hash, ''), coalesce(headers::text, '')
		FROM pages WHERE url_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	for i := range out {
		out[i].Prev = byID[out[i].ID]
	}
	return out, nil
}

// heldLease returns store.ErrHostLost unless the host lease h is held and
// has not run out by the database's clock, locking the host's row; it
// returns the database's time.
func heldLease(ctx context.Context, tx pgx.Tx, h store.HostToken) (int64, error) {
	var token, until *int64
	var now int64
	if err := tx.QueryRow(ctx, `SELECT lease_token, lease_until, `+sqlNow+` FROM hosts WHERE id = $1 FOR NO KEY UPDATE`,
		h.ID).Scan(&token, &until, &now); err != nil {
		return 0, err
	}
	if token == nil || *token != h.Token || *until < now {
		return 0, store.ErrHostLost
	}
	return now, nil
}

// sortLeases puts leases in frontier order: RETURNING gives rows in no
// promised order.
func sortLeases(ls []store.Lease) {
	slices.SortFunc(ls, func(a, b store.Lease) int { return cmp.Or(cmp.Compare(a.Depth, b.Depth), cmp.Compare(a.ID, b.ID)) })
}

// ClaimRevisits leases up to n URLs of the host h whose next fetch is
// due, the longest overdue first, for lease, under the host lease h (it
// fails with store.ErrHostLost unless the lease is held). A revisit starts
// a new round of attempts. When fewer than n are due, it also returns
// when the host's next scheduled URL is due (zero if none is).
func (db *DB) ClaimRevisits(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error) {
	// Schedules are in the crawler's time, as $2 is.
	return db.claimRows(ctx, fmt.Sprintf("claim revisits of host %d", h.ID), h, n, lease,
		`, attempts = 0, next_attempt_at = 0, next_fetch_at = NULL`, `next_fetch_at <= $2`, `next_fetch_at, id`,
		func(tx pgx.Tx, out []store.Lease) (time.Time, error) {
			var next *int64
			if err := tx.QueryRow(ctx, `UPDATE hosts SET next_revisit_at =
				(SELECT min(next_fetch_at) FROM frontier WHERE host_id = $1 AND next_fetch_at IS NOT NULL)
				WHERE id = $1 RETURNING next_revisit_at`, h.ID).Scan(&next); err != nil {
				return time.Time{}, err
			}
			if len(out) == n || next == nil {
				return time.Time{}, nil
			}
			return time.UnixMilli(*next), nil
		})
}

// refetch records the response of o for a URL that has a page row: a 304,
// or a response that store.Fetched.Same finds unchanged, moves the page's
// fetch time (and headers) only; a changed one replaces the page, its
// links, data and items. The URL's revisit counters follow.
func (db *DB) refetch(ctx context.Context, tx pgx.Tx, o *store.Outcome, now int64) error {
	p := o.Page
	var pageID int64
	var status int
	var final, hash string
	err := tx.QueryRow(ctx, `SELECT id, status, final_url, coalesce(content_hash, '') FROM pages WHERE url_id = $1`,
		o.Lease.ID).Scan(&pageID, &status, &final, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// A 304 to a URL without a page (a conditional request the crawler
		// did not send) has nothing to stand on: nothing to record.
		return nil
	}
	if err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, err)
	}
	unchanged, notModified := 0, 0
	switch {
	case o.NotModified:
		unchanged, notModified = 1, 1
		_, err = tx.Exec(ctx, `UPDATE pages SET fetched_at = $1, duration_ms = $2 WHERE id = $3`,
			p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), pageID)
	case store.FetchedFrom(status, final, hash, "").Same(p):
		unchanged = 1
		var headers any
		if headers, err = headersValue(p.Headers); err == nil {
			_, err = tx.Exec(ctx, `UPDATE pages SET fetched_at = $1, duration_ms = $2, headers = $3 WHERE id = $4`,
				p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), headers, pageID)
		}
	default:
		err = db.changePage(ctx, tx, pageID, o, now)
	}
	if err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE frontier SET revisits = revisits + 1, unchanged = unchanged + $1,
		not_modified = not_modified + $2 WHERE id = $3`, unchanged, notModified, o.Lease.ID); err != nil {
		return fmt.Errorf("revisit %s: %w", o.Lease.URL, err)
	}
	return nil
}

// changePage records a changed response of o over the page pageID and,
// with history, as the URL's next version. A page stored without history
// (recrawl was off) first becomes a version of its own, so that the change
// has the version it changed from.
func (db *DB) changePage(ctx context.Context, tx pgx.Tx, pageID int64, o *store.Outcome, now int64) error {
	if o.History != nil {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM versions WHERE url_id = $1`, o.Lease.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if err := addVersion(ctx, tx, pageID, o.History); err != nil {
				return err
			}
		}
	}
	if err := replacePage(ctx, tx, pageID, o, now); err != nil {
		return err
	}
	if err := db.reindexText(ctx, tx, pageID); err != nil {
		return err
	}
	if o.History != nil {
		return addVersion(ctx, tx, pageID, o.History)
	}
	return nil
}

// addVersion copies the page pageID as it stands, with its items, into a
// new version of its URL, after the URL's latest.
func addVersion(ctx context.Context, tx pgx.Tx, pageID int64, h *store.History) error {
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO versions (url_id, url, prev_id, fetched_at, status, final_url,
		content_hash, size, body, body_encoding)
		SELECT url_id, url, (SELECT max(id) FROM versions WHERE url_id = pages.url_id), fetched_at, status, final_url,
		content_hash, size, CASE WHEN $1::boolean THEN body END, CASE WHEN $1::boolean THEN body_encoding END
		FROM pages WHERE id = $2
		RETURNING id`, h.Bodies, pageID).Scan(&id); err != nil {
		return fmt.Errorf("add version: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO version_items (version_id, rule, idx, data)
		SELECT $1, rule, idx, data FROM items WHERE page_id = $2`, id, pageID); err != nil {
		return fmt.Errorf("add version: %w", err)
	}
	return nil
}

// replacePage writes the response of o over the page row pageID, and its
// links, data, items and SimHash bands over the old ones. The row keeps
// its id.
func replacePage(ctx context.Context, tx pgx.Tx, pageID int64, o *store.Outcome, now int64) error {
	p := o.Page
	headers, err := headersValue(p.Headers)
	if err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE pages SET final_url = $1, status = $2, content_type = $3, encoding = $4,
		headers = $5, fetched_at = $6, duration_ms = $7, size = $8, truncated = $9, body = $10, body_encoding = $11,
		content_hash = $12, title = $13, description = $14, canonical = $15, meta_robots = $16, lang = $17,
		fields_truncated = $18, simhash = $19, near_duplicate_of = $20, near_duplicate_reason = $21 WHERE id = $22`,
		text(p.FinalURL), p.Status, nullText(p.ContentType), nullText(p.Encoding), headers, p.FetchedAt.UnixMilli(),
		p.Duration.Milliseconds(), p.Size, p.Truncated, p.Body, nullText(p.BodyEncoding), nullText(p.ContentHash),
		nullText(p.Title), nullText(p.Description), nullText(p.Canonical), nullText(p.MetaRobots), nullText(p.Lang),
		nullText(strings.Join(p.FieldsTruncated, ",")), simhashValue(p), nullInt64(p.NearDuplicateOf),
		nullText(p.NearReason), pageID); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM page_links WHERE page_id = $1`, `DELETE FROM page_data WHERE page_id = $1`,
		`DELETE FROM items WHERE page_id = $1`, `DELETE FROM simhash_bands WHERE page_id = $1`} {
		if _, err := tx.Exec(ctx, q, pageID); err != nil {
			return err
		}
	}
	var rows pageRows
	if err := rows.add(pageID, o, now); err != nil {
		return err
	}
	if err := rows.copy(ctx, tx); err != nil {
		return err
	}
	return indexSimHash(ctx, tx, o.Lease.HostID, pageID, p)
}

// simhashValue is the simhash column of a page: its SimHash as a signed
// 64-bit integer, or NULL.
func simhashValue(p *store.Page) any {
	if !p.HasSimHash {
		return nil
	}
	return int64(p.SimHash)
}

// indexSimHash adds the bands of the page's SimHash to the index of its
// host, unless it has none or is a near-duplicate itself.
func indexSimHash(ctx context.Context, tx pgx.Tx, hostID, pageID int64, p *store.Page) error {
	if !p.HasSimHash || p.NearDuplicateOf != 0 || hostID == 0 {
		return nil
	}
	k := store.NearBandKeys(p.SimHash)
	if _, err := tx.Exec(ctx, `INSERT INTO simhash_bands (host_id, key, page_id) SELECT $1, unnest($2::bigint[]), $3
		ON CONFLICT DO NOTHING`, hostID, k[:], pageID); err != nil {
		return fmt.Errorf("index simhash: %w", err)
	}
	return nil
}

// scheduleBatch is how many URLs one transaction of ScheduleFetched
// schedules.
const scheduleBatch = 1000

// ScheduleFetched schedules every URL that ended (done or failed) without
// a schedule, fetched while recrawl was off: each is due interval(url)
// after its last fetch (its page's fetch time, else its last update). It
// returns how many it scheduled.
func (db *DB) ScheduleFetched(ctx context.Context, interval func(url string) time.Duration) (int, error) {
	total := 0
	for {
		var n int
		err := db.inTx(ctx, "schedule fetched URLs", func(tx pgx.Tx) error {
			var err error
			n, err = scheduleSome(ctx, tx, interval)
			return err
		})
		total += n
		if err != nil || n < scheduleBatch {
			return total, err
		}
	}
}

func scheduleSome(ctx context.Context, tx pgx.Tx, interval func(url string) time.Duration) (int, error) {
	rows, err := tx.Query(ctx, `SELECT f.id, f.host_id, f.url, coalesce(p.fetched_at, f.updated_at)
		FROM frontier f LEFT JOIN pages p ON p.url_id = f.id
		WHERE f.next_fetch_at IS NULL AND f.state IN ('done', 'failed') ORDER BY f.id LIMIT $1
		FOR NO KEY UPDATE OF f SKIP LOCKED`, scheduleBatch)
	if err != nil {
		return 0, err
	}
	var ids, ats, ivs []int64
	next := map[int64]int64{}
	for rows.Next() {
		var id, at int64
		var host *int64
		var u string
		if err := rows.Scan(&id, &host, &u, &at); err != nil {
			rows.Close()
			return 0, err
		}
		iv := interval(u).Milliseconds()
		ids, ats, ivs = append(ids, id), append(ats, at+iv), append(ivs, iv)
		if host != nil {
			if cur, ok := next[*host]; !ok || at+iv < cur {
				next[*host] = at + iv
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE frontier f SET next_fetch_at = s.at, revisit_interval_ms = s.iv
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS s(id, at, iv) WHERE f.id = s.id`, ids, ats, ivs); err != nil {
		return 0, err
	}
	hosts := make([]int64, 0, len(next))
	for id := range next {
		hosts = append(hosts, id)
	}
	slices.Sort(hosts) // rows locked in id order, as a commit locks them
	for _, id := range hosts {
		if _, err := tx.Exec(ctx, `UPDATE hosts SET next_revisit_at = least(coalesce(next_revisit_at, $1), $1) WHERE id = $2`,
			next[id], id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}
