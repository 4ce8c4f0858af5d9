package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// URLInfo is everything the database knows about one frontier URL.
type URLInfo struct {
	ID            int64
	URL           string
	State         string
	Reason        string
	Source        string // seed, link, redirect, sitemap, list, canonical
	Depth         int
	Attempts      int // fetch attempts that produced an outcome
	Claims        int // times leased
	Redirects     int // redirect hops that led here
	Status        int // last HTTP status, 0 if none
	LastError     string
	NextAttemptAt time.Time // zero when due at once
	LeaseUntil    time.Time // zero unless leased
	DiscoveredAt  time.Time
	UpdatedAt     time.Time
	Worker        string // the worker that claimed it last, and recorded it if it is done (host:pid, worker id)
	// NextFetchAt is when the URL is due for a revisit (zero when not
	// scheduled), RevisitInterval the interval that led there; Revisits
	// are its fetches after the first that got an answer, Unchanged those
	// that found what was stored, NotModified those answered 304.
	NextFetchAt                      time.Time
	RevisitInterval                  time.Duration
	Revisits, Unchanged, NotModified int

	ParentURL    string // page it was found on by its shortest path, "" for seeds
	ParentAnchor string // anchor text of that link, if recorded
	Inbound      []InboundLink
	InboundTotal int // pages linking here

	Host *HostInfo // nil for URLs skipped before a host was needed
	Page *PageInfo // nil unless a response was recorded
}

// InboundLink is a stored page that links to a URL.
type InboundLink struct {
	From     string
	Anchor   string
	Nofollow bool
}

// PageInfo is the stored response for a URL, without the body.
type PageInfo struct {
	ID          int64
	Status      int
	FinalURL    string
	ContentType string
	Encoding    string
	Size        int
	Truncated   bool
	BodyStored  bool
	Title       string
	Canonical   string
	MetaRobots  string
	FetchedAt   time.Time
	Duration    time.Duration
	Links       int // outgoing links recorded
	Items       int // items extracted
	// SimHash of the main text, when HasSimHash; NearDuplicateOf is the
	// URL of the page it nearly duplicates ("" for none), NearReason why.
	SimHash         uint64
	HasSimHash      bool
	NearDuplicateOf string
	NearReason      string
}

// Explain gathers what is known about a canonical URL, with up to
// maxInbound pages that link to it. It returns an error wrapping
// ErrUnknownURL when the frontier has no such URL.
func (rd *Reader) Explain(ctx context.Context, url string, maxInbound int) (*URLInfo, error) {
	u := &URLInfo{}
	var hostID, parentID, status, leaseUntil, nextFetch, interval sql.NullInt64
	var next, discovered, updated int64
	err := rd.queryRow(ctx, `SELECT id, url, host_id, depth, parent_id, source, state, coalesce(reason, ''),
		status, attempts, claims, redirects, next_attempt_at, lease_until, coalesce(last_error, ''), discovered_at, updated_at,
		coalesce((SELECT w.hostname || ':' || w.pid || ' (worker ' || w.id || ')' FROM workers w WHERE w.id = frontier.worker), ''),
		next_fetch_at, revisit_interval_ms, revisits, unchanged, not_modified
		FROM frontier WHERE url = ?`, url).Scan(&u.ID, &u.URL, &hostID, &u.Depth, &parentID, &u.Source, &u.State,
		&u.Reason, &status, &u.Attempts, &u.Claims, &u.Redirects, &next, &leaseUntil, &u.LastError, &discovered, &updated,
		&u.Worker, &nextFetch, &interval, &u.Revisits, &u.Unchanged, &u.NotModified)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("explain %s: %w", url, ErrUnknownURL)
	}
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", url, rd.describe(err))
	}
	u.Status = int(status.Int64)
	u.NextAttemptAt = unixMilli(next)
	u.LeaseUntil = unixMilli(leaseUntil.Int64)
	u.DiscoveredAt = unixMilli(discovered)
	u.UpdatedAt = unixMilli(updated)
	if nextFetch.Valid {
		u.NextFetchAt = time.UnixMilli(nextFetch.Int64)
	}
	u.RevisitInterval = time.Duration(interval.Int64) * time.Millisecond

	if parentID.Valid {
		var anchor sql.NullString
		err := rd.queryRow(ctx, `SELECT f.url, (SELECT l.anchor FROM pages p JOIN links l ON l.from_id = p.id
			WHERE p.url_id = f.id AND l.to_url = ?) FROM frontier f WHERE f.id = ?`, url, parentID.Int64).Scan(&u.ParentURL, &anchor)
		if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("explain %s: parent: %w", url, rd.describe(err))
		}
		u.ParentAnchor = anchor.String
	}
	if u.Inbound, u.InboundTotal, err = rd.inbound(ctx, url, maxInbound); err != nil {
		return nil, fmt.Errorf("explain %s: %w", url, err)
	}
	if hostID.Valid {
		var robotsStatus, robotsFetched, robotsExpires sql.NullInt64
		var robotsBody []byte
		var robotsErr string
		var robotsFailures int
		h, err := scanHostInfo(rd.queryRow(ctx, `SELECT `+hostInfoCols+`, h.robots_status, h.robots_body,
			coalesce(h.robots_error, ''), h.robots_fetched_at, h.robots_expires_at, h.robots_failures
			FROM hosts h WHERE h.id = ?`, hostID.Int64), &robotsStatus, &robotsBody, &robotsErr,
			&robotsFetched, &robotsExpires, &robotsFailures)
		if err != nil {
			return nil, fmt.Errorf("explain %s: host: %w", url, rd.describe(err))
		}
		h.RobotsFetched = robotsStatus.Valid
		h.RobotsStatus = int(robotsStatus.Int64)
		h.RobotsBody, h.RobotsError, h.RobotsFailures = robotsBody, robotsErr, robotsFailures
		h.RobotsFetchedAt = unixMilli(robotsFetched.Int64)
		h.RobotsExpiresAt = unixMilli(robotsExpires.Int64)
		u.Host = &h
	}
	p := &PageInfo{}
	var fetched, dur int64
	var simhash sql.NullInt64
	err = rd.queryRow(ctx, `SELECT id, status, final_url, coalesce(content_type, ''), coalesce(encoding, ''),
		size, truncated, body IS NOT NULL, coalesce(title, ''), coalesce(canonical, ''), coalesce(meta_robots, ''),
		fetched_at, duration_ms, (SELECT count(*) FROM links WHERE from_id = pages.id),
		(SELECT count(*) FROM items WHERE page_id = pages.id), simhash,
		coalesce((SELECT o.url FROM pages o WHERE o.id = pages.near_duplicate_of), ''), coalesce(near_duplicate_reason, '')
		FROM pages WHERE url_id = ?`, u.ID).Scan(&p.ID, &p.Status, &p.FinalURL, &p.ContentType, &p.Encoding, &p.Size,
		&p.Truncated, &p.BodyStored, &p.Title, &p.Canonical, &p.MetaRobots, &fetched, &dur, &p.Links, &p.Items,
		&simhash, &p.NearDuplicateOf, &p.NearReason)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return nil, fmt.Errorf("explain %s: page: %w", url, rd.describe(err))
	default:
		p.FetchedAt = unixMilli(fetched)
		p.Duration = time.Duration(dur) * time.Millisecond
		p.SimHash, p.HasSimHash = uint64(simhash.Int64), simhash.Valid
		u.Page = p
	}
	return u, nil
}

// inbound returns up to n stored pages linking to url, and how many there are.
func (rd *Reader) inbound(ctx context.Context, url string, n int) ([]InboundLink, int, error) {
	// With store.inbound_link_index on, link_targets lists the pages
	// linking to each URL; without, every stored link is read.
	var indexed bool
	if err := rd.queryRow(ctx, rd.d.HasTable, "link_targets").Scan(&indexed); err != nil {
		return nil, 0, fmt.Errorf("inbound links: %w", rd.describe(err))
	}
	// Without it, only the pages whose links' text holds url as written
	// there (see LinkEncoder) are decoded.
	pages := `SELECT page_id FROM page_links WHERE ` + rd.d.Position("links", "?") + ` > 0`
	count := `SELECT count(*) FROM links WHERE from_id IN (` + pages + `) AND to_url = ?`
	list := `SELECT p.url, coalesce(l.anchor, ''), l.nofollow FROM links l
		JOIN pages p ON p.id = l.from_id WHERE l.from_id IN (` + pages + `) AND l.to_url = ? ORDER BY p.id LIMIT ?`
	args := []any{string(appendJSONString(nil, url)), url}
	if indexed {
		count = `SELECT count(*) FROM link_targets WHERE to_url = ?`
		list = `SELECT p.url, coalesce(l.anchor, ''), l.nofollow FROM link_targets t
			JOIN pages p ON p.id = t.from_id JOIN links l ON l.from_id = t.from_id AND l.to_url = t.to_url
			WHERE t.to_url = ? ORDER BY t.from_id LIMIT ?`
		args = []any{url}
	}
	var total int
	if err := rd.queryRow(ctx, count, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("inbound links: %w", rd.describe(err))
	}
	if total == 0 || n <= 0 {
		return nil, total, nil
	}
	rows, err := rd.query(ctx, list, append(args, n)...)
	if err != nil {
		return nil, 0, fmt.Errorf("inbound links: %w", rd.describe(err))
	}
	defer rows.Close()
	var out []InboundLink
	for rows.Next() {
		var l InboundLink
		if err := rows.Scan(&l.From, &l.Anchor, &l.Nofollow); err != nil {
			return nil, 0, fmt.Errorf("inbound links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("inbound links: %w", rd.describe(err))
	}
	return out, total, nil
}

// Inbound returns up to n stored pages linking to url (which need not be
// in the frontier: nofollow links and links seen in URL-list mode are
// recorded without being queued), and how many there are.
func (rd *Reader) Inbound(ctx context.Context, url string, n int) ([]InboundLink, int, error) {
	return rd.inbound(ctx, url, n)
}

// SimilarURLs returns up to n frontier URLs sharing the longest possible
// prefix with url: same directory first, then parent directories, then the
// same origin. It suggests what was meant when url is unknown.
func (rd *Reader) SimilarURLs(ctx context.Context, url string, n int) ([]string, error) {
	var out []string
	seen := map[string]bool{url: true}
	for _, prefix := range prefixes(url) {
		if len(out) >= n {
			break
		}
		// URLs are compared as bytes (PostgreSQL: in the C collation), so
		// this range is exactly the URLs that start with prefix, read off
		// the UNIQUE index on url.
		rows, err := rd.query(ctx, `SELECT url FROM frontier WHERE url >= ? AND url < ? ORDER BY url LIMIT ?`,
			prefix, prefixEnd(prefix), n+1)
		if err != nil {
			return nil, fmt.Errorf("similar URLs: %w", rd.describe(err))
		}
		for rows.Next() && len(out) < n {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, fmt.Errorf("similar URLs: %w", err)
			}
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("similar URLs: %w", rd.describe(err))
		}
	}
	return out, nil
}

// prefixEnd returns the least string greater than every string that
// starts with prefix, in byte order, as valid UTF-8 (PostgreSQL refuses
// anything else): prefix with its last byte incremented when that byte is
// ASCII, as the ends of prefixes are; else prefix followed by the largest
// code point, which no URL in canonical form (ASCII) contains.
func prefixEnd(prefix string) string {
	if n := len(prefix); n > 0 && prefix[n-1] < 0x7f {
		return prefix[:n-1] + string(prefix[n-1]+1)
	}
	return prefix + "\U0010FFFF"
}

// prefixes returns url cut after each '/', '?' or '&' of its path and
// query, longest first, down to scheme://host/.
func prefixes(url string) []string {
	start := strings.Index(url, "://")
	if start < 0 {
		return []string{url}
	}
	rootEnd := strings.IndexByte(url[start+3:], '/')
	if rootEnd < 0 {
		return []string{url}
	}
	rootEnd += start + 3 + 1
	var out []string
	for i := len(url); i > rootEnd; i-- {
		switch url[i-1] {
		case '/', '?', '&', '=':
			if len(out) == 0 || out[len(out)-1] != url[:i] {
				out = append(out, url[:i])
			}
		}
	}
	if len(out) == 0 || out[len(out)-1] != url[:rootEnd] {
		out = append(out, url[:rootEnd])
	}
	return out
}
