package runner

import (
	"context"
	"io"
	"iter"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/postgres"
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

// Database is a crawl database opened for crawling: the engine's store,
// the reextract's, the run's bookkeeping, and everything a Reader reads.
// A SQLite file is held by one process at a time; a PostgreSQL crawl is
// shared by every worker that opens it.
type Database interface {
	Reader
	crawl.Store
	crawl.ReextractStore
	// StartRun records the start of a run and returns its id.
	StartRun(ctx context.Context, config string) (int64, error)
	// EndRun records how a run ended.
	EndRun(ctx context.Context, id int64, outcome string) error
	// ReadTable, CountRows and CopyIn move a crawl between databases
	// (crawler copy); Workers lists its worker processes.
	ReadTable(ctx context.Context, t store.CopyTable) (*store.CopyRows, error)
	CountRows(ctx context.Context, table string) (int64, error)
	CopyIn(ctx context.Context, read func(store.CopyTable) (*store.CopyRows, error)) (map[string]int64, error)
	Workers(ctx context.Context, limit int) ([]store.WorkerInfo, error)
	// RecordSettings records the crawl's settings the first time and
	// refuses (*store.SettingsDiffer) settings that differ, unless update.
	RecordSettings(ctx context.Context, settings map[string]string, update bool) error
}

// OpenDatabase opens the crawl database that a configuration's database
// value names for crawling: a PostgreSQL URL (postgres://...) opens the
// crawl name in that database, creating its schema if needed; anything
// else is a SQLite file path (name unused), held exclusively (an error
// wrapping store.ErrLocked when another process holds it). Either is
// migrated. Every command and the service open their databases here or in
// OpenReader, so the value alone decides which store serves a job.
func OpenDatabase(ctx context.Context, database, name string) (Database, error) {
	if store.IsPostgres(database) {
		db, err := postgres.Open(ctx, database, name, postgres.Options{})
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, err
	}
	return db, nil
}

// OpenReader opens the crawl database that a configuration's database
// value names for reading: it works while a crawl writes to it, and, for
// SQLite, on a file in a directory the user cannot write.
func OpenReader(ctx context.Context, database, name string, o store.ReaderOptions) (Reader, error) {
	if store.IsPostgres(database) {
		db, err := postgres.OpenReader(ctx, database, name, o)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	db, err := sqlite.OpenReader(ctx, database, o)
	if err != nil {
		return nil, err
	}
	return db, nil
}
