package store

import (
	"context"
	"fmt"
)

// Totals are a crawl database's headline numbers, over every run.
type Totals struct {
	Pages  int // responses recorded
	Errors int // URLs whose fetch failed
	Queued int // URLs waiting in the frontier
	Leased int // URLs claimed by a running crawler
}

// Totals reads the headline numbers from the per-host counters the crawl
// maintains and the partial index of leased URLs, so it is cheap enough to
// call every second during a crawl, at any frontier size.
func (rd *Reader) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	err := rd.queryRow(ctx, `SELECT coalesce(sum(pages), 0), coalesce(sum(errors), 0), coalesce(sum(queued), 0),
		(SELECT count(*) FROM frontier WHERE state = 'leased') FROM hosts`).Scan(&t.Pages, &t.Errors, &t.Queued, &t.Leased)
	if err != nil {
		return Totals{}, fmt.Errorf("read totals: %w", rd.describe(err))
	}
	return t, nil
}
