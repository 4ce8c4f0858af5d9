package runner

import (
	"context"
	"io"
	"iter"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

// Reader is a crawl database opened for reading: what the commands and
// the service read. A store provides all of it by embedding the shared
// read side (store.Reader) and adding its own UserQuery and Close.
type Reader interface {
	crawl.ExplainReader
	crawl.PageReader
	Status(ctx context.Context) (*store.Status, error)
	Totals(ctx context.Context) (store.Totals, error)
	FrontierCounts(ctx context.Context) (map[string]int, error)
	NextDue(ctx context.Context, now time.Time) (next time.Time, due int, err error)
	HostList(ctx context.Context, order store.HostOrder, limit int) ([]store.HostInfo, int, error)
	Report(ctx context.Context, since time.Time, top int) (*store.Report, error)
	Causes(ctx context.Context, since time.Time, top int) ([]store.ReasonCount, error)
	SeedStates(ctx context.Context, limit int) (total, reached int, refused []store.SeedState, err error)
	Export(ctx context.Context, w io.Writer, o store.ExportOptions) (int64, error)
	PageSummaries(ctx context.Context, after int64, limit, maxChars int) iter.Seq2[store.PageSummary, error]
	ItemSummaries(ctx context.Context, after int64, limit int, rule string, maxChars, maxJSON int) iter.Seq2[store.ItemSummary, error]
	Changes(ctx context.Context, o store.ChangesOptions) iter.Seq2[store.Change, error]
	Versions(ctx context.Context, url string, n int) ([]store.Version, int, error)
	// UserQuery runs one read-only statement a user wrote; no row it
	// returns holds more than rowBytes (when positive).
	UserQuery(ctx context.Context, query string, rowBytes int) (*store.QueryRows, error)
	Close() error
}

// Database is a crawl database opened for crawling, by one process at a
// time: the engine's store, the reextract's, the run's bookkeeping, and
// everything a Reader reads.
type Database interface {
	Reader
	crawl.Store
	crawl.ReextractStore
	// StartRun records the start of a run and returns its id.
	StartRun(ctx context.Context, config string) (int64, error)
	// EndRun records how a run ended.
	EndRun(ctx context.Context, id int64, outcome string) error
}

// OpenDatabase opens the crawl database that a configuration's database
// value names for crawling: it is created if needed, migrated, and held
// exclusively (an error wrapping store.ErrLocked when another process
// holds it). Every command and the service open their databases here or
// in OpenReader, so the value alone decides which store serves a job;
// today it is a SQLite file path.
func OpenDatabase(ctx context.Context, database string) (Database, error) {
	db, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// OpenReader opens the crawl database that a configuration's database
// value names for reading: it works while a crawl writes to it, and on a
// file in a directory the user cannot write.
func OpenReader(ctx context.Context, database string, o store.ReaderOptions) (Reader, error) {
	db, err := sqlite.OpenReader(ctx, database, o)
	if err != nil {
		return nil, err
	}
	return db, nil
}
