// Package postgres is the crawl database in PostgreSQL, shared by any
// number of crawler processes (workers) on any number of machines. Each
// crawl lives in a schema of its own, named by the configuration's crawl
// name, created and migrated on open (under an advisory lock, so workers
// starting together migrate once). Frontier leases, exactly-once commits
// and the read side behave as in store/sqlite; the SQL is PostgreSQL's:
// claims take rows with FOR NO KEY UPDATE SKIP LOCKED, commits send their
// statements in batches and their links and items with COPY.
//
// A DB has a pool for the crawl's writes (pgxpool) and a separate pool of
// connections for the shared read side (store.Reader) and UserQuery, so
// that queries never take a connection the crawl needs.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/crawler-dev/crawler/migrations"
	"github.com/crawler-dev/crawler/store"
)

// minServerVersion is the oldest PostgreSQL the store runs on (13: the
// server_version_num below 130000 is refused).
const minServerVersion = 130000

// DB is an open crawl in a PostgreSQL database. It is safe for concurrent
// use. The methods of the embedded store.Reader read through the reader
// pool.
type DB struct {
	*store.Reader
	url    string // as given, for messages (the password is never printed: see Redact)
	schema string
	w      *pgxpool.Pool
	r      *sql.DB
	hosts  hostIDs
	worker atomic.Int64 // this process's row in workers (StartWorker), 0 before
	fts    atomic.Bool  // pages_fts exists: index each recorded page
	// conflicts counts transactions run again after a serialization
	// failure or a deadlock (see inTx).
	conflicts atomic.Int64
	// maxRow is store.ReaderOptions.MaxValueBytes: the longest row a
	// reader connection accepts (0: no limit).
	maxRow int
}

// Options tune an open DB.
type Options struct {
	// WriteConns is the size of the crawl's write pool (default 4: the
	// writer, the scheduler's feeder, lease renewal and one spare).
	WriteConns int
	// ReadConns is the size of the reader pool (default 4).
	ReadConns int
	// Reader are the options of the read side.
	Reader store.ReaderOptions
}

// Redact returns the database URL without its password, for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// poolConfig parses the URL and points every connection at the crawl's
// schema.
func poolConfig(dsn, schema string, conns int) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL URL %s: %w (want postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...])",
			Redact(dsn), unwrapParse(err))
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "crawler"
	cfg.MaxConns = int32(conns)
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 10 * time.Second
	// A new connection fails fast when the server is down: the caller
	// retries with its own backoff.
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 10*time.Second {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	return cfg, nil
}

// unwrapParse keeps pgx's parse error without repeating the whole URL,
// which may hold a password.
func unwrapParse(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return errors.New(msg[i+2:])
	}
	return err
}

// Open opens the crawl name in the PostgreSQL database at dsn for
// crawling: it checks the server, creates the crawl's schema if needed and
// applies pending migrations. Any number of processes may open the same
// crawl at once.
func Open(ctx context.Context, dsn, name string, o Options) (*DB, error) {
	o.defaults()
	return open(ctx, dsn, name, o, o.WriteConns, func(w *pgxpool.Pool) error { return migrate(ctx, w, name) })
}

// OpenReader opens an existing crawl for reading only. It fails with a
// message listing the crawls of the database when it holds no crawl
// named name.
func OpenReader(ctx context.Context, dsn, name string, o store.ReaderOptions) (*DB, error) {
	opts := Options{Reader: o, WriteConns: 1}
	opts.defaults()
	return open(ctx, dsn, name, opts, 1, func(w *pgxpool.Pool) error {
		var exists bool
		if err := w.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'frontier')`,
			name).Scan(&exists); err != nil {
			return describe(err)
		}
		if exists {
			return nil
		}
		crawls, _ := Crawls(ctx, w)
		msg := "the database holds no crawls yet"
		if len(crawls) > 0 {
			msg = "crawls in this database: " + strings.Join(crawls, ", ")
		}
		return fmt.Errorf("no crawl named %q (%s; the crawl name is the config's name, or --name)", name, msg)
	})
}

// open connects a write pool of conns connections to the crawl name,
// checks the server, runs prepare on the pool, and opens the reader.
func open(ctx context.Context, dsn, name string, o Options, conns int, prepare func(*pgxpool.Pool) error) (*DB, error) {
	if err := store.CheckCrawlName(name); err != nil {
		return nil, err
	}
	cfg, err := poolConfig(dsn, name, conns)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("open crawl %q in %s", name, Redact(dsn))
	w, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, describe(err))
	}
	db := &DB{url: dsn, schema: name, w: w, hosts: hostIDs{m: map[string]int64{}}}
	if err := db.checkServer(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := prepare(w); err != nil {
		w.Close()
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	db.openReader(cfg, o)
	return db, nil
}

// Crawls lists the crawls (schemas holding a frontier) of the database.
func Crawls(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT schemaname FROM pg_tables WHERE tablename = 'frontier' AND schemaname <> 'public'
		ORDER BY 1`)
	if err != nil {
		return nil, describe(err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (o *Options) defaults() {
	if o.WriteConns <= 0 {
		o.WriteConns = 4
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
}

// openReader opens the reader pool with the writer's connection settings.
func (db *DB) openReader(cfg *pgxpool.Config, o Options) {
	cc := cfg.ConnConfig.Copy()
	// Every statement of the reader pool reads only, whoever wrote it.
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	var opts []stdlib.OptionOpenDB
	if n := o.Reader.MaxValueBytes; n > 0 {
		// No row longer than the longest value a reader may load: pgx
		// refuses the message before it allocates it.
		db.maxRow = n
		opts = append(opts, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
			c.PgConn().Frontend().SetMaxBodyLen(n)
			return nil
		}))
	}
	db.r = stdlib.OpenDB(*cc, opts...)
	db.r.SetMaxOpenConns(o.ReadConns)
	db.r.SetMaxIdleConns(o.ReadConns)
	db.r.SetConnMaxIdleTime(5 * time.Minute)
	db.Reader = store.NewReader(db.r, dialect)
}

// dialect is what the shared read side needs to know about PostgreSQL.
var dialect = store.Dialect{
	Dollar:   true,
	Greatest: func(a, b string) string { return "greatest(" + a + ", " + b + ")" },
	JSONKeys: func(x, alias string) string { return "jsonb_object_keys(" + x + ") AS " + alias + "(key)" },
	Position: func(hay, needle string) string { return "strpos((" + hay + ")::text, " + needle + ")" },
	HasTable: `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`,
	Describe: describe,
	Now:      sqlNow,
}

// checkServer refuses servers older than PostgreSQL 13.
func (db *DB) checkServer(ctx context.Context) error {
	var v int
	var s string
	if err := db.w.QueryRow(ctx, `SELECT current_setting('server_version_num')::int, current_setting('server_version')`).
		Scan(&v, &s); err != nil {
		return describe(err)
	}
	if v < minServerVersion {
		return fmt.Errorf("PostgreSQL %s is too old: the crawler needs PostgreSQL 13 or later", s)
	}
	return nil
}

// Name returns the crawl's name, its schema.
func (db *DB) Name() string { return db.schema }

// URL returns the database URL the crawl was opened with.
func (db *DB) URL() string { return db.url }

// Pool returns the write pool, for tools and tests that run their own SQL
// on the crawl's schema.
func (db *DB) Pool() *pgxpool.Pool { return db.w }

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	if db.r != nil {
		err = db.r.Close()
	}
	if db.w != nil {
		db.w.Close()
	}
	return err
}

// migrateLock is the advisory lock key space of migrations: the lock is
// taken on the schema's name within it.
const migrateLock = "crawler migrate "

// migrate creates the schema if needed and applies the migrations it has
// not seen, all in one transaction under an advisory lock on the schema's
// name: workers starting together wait for the first, which migrates once.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	set := migrations.Postgres()
	files, err := migrations.List(set)
	if err != nil {
		return err
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, migrateLock+schema); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, describe(err))
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	if last := files[len(files)-1].Version; current > last {
		return fmt.Errorf("migrate: the crawl's schema version %d is newer than this binary knows (%d): upgrade the crawler", current, last)
	}
	for _, m := range files {
		if m.Version <= current {
			continue
		}
		body, err := fs.ReadFile(set, m.Name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, describe(err))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.Version, m.Name, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, describe(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	return nil
}
