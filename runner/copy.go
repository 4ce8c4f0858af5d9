package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/crawler-dev/crawler/store"
)

// TableCount is how many rows of one table a copy found and wrote.
type TableCount struct {
	Table          string
	Source, Copied int64
}

// Copy copies the crawl in the database from (the crawl fromName, on
// PostgreSQL) into the database to (the crawl toName), which must not
// hold a crawl yet: frontier, hosts, pages, links, items, page data, runs,
// workers and settings, with their ids. URLs leased in the source are
// queued in the copy. Nobody may crawl the source meanwhile: a SQLite file
// is locked, and a PostgreSQL crawl with a running worker is refused. The
// rows of every table are counted on both sides; a difference is an error.
func Copy(ctx context.Context, from, fromName, to, toName string) ([]TableCount, error) {
	src, err := OpenDatabase(ctx, from, fromName)
	if err != nil {
		return nil, fmt.Errorf("copy from: %w", err)
	}
	defer src.Close()
	ws, err := src.Workers(ctx, 1000)
	if err != nil {
		return nil, fmt.Errorf("copy from: %w", err)
	}
	running := 0
	for _, w := range ws {
		if w.State == store.WorkerRunning {
			running++
		}
	}
	if running > 0 && store.IsPostgres(from) {
		return nil, fmt.Errorf("copy from: the crawl has %d running workers: stop them first (a worker lost for longer "+
			"than its host lease no longer counts)", running)
	}
	counts := make([]TableCount, len(store.CopyTables))
	for i, t := range store.CopyTables {
		if counts[i].Source, err = src.CountRows(ctx, t.Name); err != nil {
			return nil, fmt.Errorf("copy from: %w", err)
		}
		counts[i].Table = t.Name
	}
	dst, err := OpenDatabase(ctx, to, toName)
	if err != nil {
		return nil, fmt.Errorf("copy to: %w", err)
	}
	defer dst.Close()
	written, err := dst.CopyIn(ctx, func(t store.CopyTable) (*store.CopyRows, error) { return src.ReadTable(ctx, t) })
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	var bad []error
	for i := range counts {
		c := &counts[i]
		if c.Copied, err = dst.CountRows(ctx, c.Table); err != nil {
			return nil, fmt.Errorf("copy to: %w", err)
		}
		if c.Copied != c.Source || written[c.Table] != c.Source {
			bad = append(bad, fmt.Errorf("%s: %d rows in the source, %d written, %d in the copy", c.Table, c.Source,
				written[c.Table], c.Copied))
		}
	}
	if len(bad) > 0 {
		return counts, fmt.Errorf("copy: counts differ: %w", errors.Join(bad...))
	}
	return counts, nil
}
