package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Fetched is what a store recorded about a URL's latest response: what a
// revisit compares its answer with, and the validators of its conditional
// request.
type Fetched struct {
	Status       int
	FinalURL     string
	ContentHash  string
	ETag         string // as the server sent it, quoted
	LastModified string // as the server sent it
	// Interval is the URL's revisit interval as last computed; 0 when it
	// was fetched without recrawl.
	Interval time.Duration
}

// Same reports whether the response p carries what f recorded: the same
// status, final URL and body hash. It is the one rule by which a revisit is
// "unchanged": the crawl lengthens the URL's interval, and the store keeps
// the page as it is and records no new version.
func (f *Fetched) Same(p *Page) bool {
	return f.Status == p.Status && f.FinalURL == p.FinalURL && f.ContentHash == p.ContentHash
}

// FetchedFrom returns the Fetched of a stored page row: its status, final
// URL, body hash and recorded headers (JSON, as Page.Headers), from which
// it takes the validators.
func FetchedFrom(status int, finalURL, hash, headers string) *Fetched {
	f := &Fetched{Status: status, FinalURL: finalURL, ContentHash: hash}
	if headers != "" {
		var h map[string]string
		if json.Unmarshal([]byte(headers), &h) == nil {
			f.ETag, f.LastModified = h["ETag"], h["Last-Modified"]
		}
	}
	return f
}

// History says how versions are kept.
type History struct {
	// Bodies keeps each version's body (compressed as the page's), not
	// only its hash and items.
	Bodies bool
}

// Schedule is when a URL is due for its next fetch.
type Schedule struct {
	Interval time.Duration // the interval that led to At
	At       time.Time
}

// NextRevisit returns how many active hosts have a URL due for a revisit
// at now, and when the first scheduled URL of an active host is due (zero
// when none is scheduled). It reads the hosts' next due times, which the
// store keeps with each commit and claim, never the frontier.
func (rd *Reader) NextRevisit(ctx context.Context, now time.Time) (dueHosts int, next time.Time, err error) {
	var ms sql.NullInt64
	err = rd.queryRow(ctx, `SELECT count(CASE WHEN next_revisit_at <= ? THEN 1 END), min(next_revisit_at)
		FROM hosts WHERE next_revisit_at IS NOT NULL AND state = 'active'`, now.UnixMilli()).Scan(&dueHosts, &ms)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("next revisit: %w", rd.describe(err))
	}
	if ms.Valid {
		next = time.UnixMilli(ms.Int64)
	}
	return dueHosts, next, nil
}
