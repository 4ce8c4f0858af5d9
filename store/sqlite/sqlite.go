// Package sqlite is the crawl database in one SQLite file: it opens and
// migrates the file, holds it for one crawler process (a lock file beside
// it), hands out frontier leases, records fetch outcomes exactly once, and
// answers read-only queries without ever blocking the crawl.
//
// A DB has one writer connection (SQLite allows one writer at a time; a
// single connection turns contention into queueing instead of "database is
// locked") and a separate pool of read-only connections, through which the
// shared read side (store.Reader) and UserQuery read.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/crawler-dev/crawler/migrations"
	"github.com/crawler-dev/crawler/store"
)

// DB is an open crawl database. It is safe for concurrent use. The
// methods of the embedded store.Reader read through the read-only pool.
type DB struct {
	*store.Reader
	path string
	w    *sql.DB // one connection: every write goes through it
	r    *sql.DB // read-only pool
	lock *os.File
	// maxValue is store.ReaderOptions.MaxValueBytes (0: SQLite's own limit).
	maxValue int
	st       stmts
	dst      dataStmts
	hosts    hostCache
	text     *store.BodyCodec // zstd, for page_data.main_text_zstd
	fts      atomic.Bool      // pages_fts exists: index each recorded page
	worker   atomic.Int64     // this process's row in workers (StartWorker), 0 before
	// links holds insertLinks' buffers. It is used only inside write
	// transactions, which the writer's one connection serialises.
	links store.LinkEncoder
}

// connector opens connections to one database file with mattn/go-sqlite3,
// running hook on each new one. The writer's hook gives it a 32 MiB page
// cache and WAL checkpoints every 16 MiB rather than 4 MiB, so a crawl that
// writes hundreds of megabytes of bodies spends less time in checkpoint
// fsyncs; the readers' hook is DB.prepareReader.
type connector struct {
	driver *sqlite3.SQLiteDriver
	dsn    string
}

func newConnector(dsn string, hook func(*sqlite3.SQLiteConn) error) *connector {
	return &connector{driver: &sqlite3.SQLiteDriver{ConnectHook: hook}, dsn: dsn}
}

// Connect implements driver.Connector.
func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }

// Driver implements driver.Connector.
func (c *connector) Driver() driver.Driver { return c.driver }

func tuneWriter(c *sqlite3.SQLiteConn) error {
	if _, err := c.Exec(`PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 4096`, nil); err != nil {
		return err
	}
	return registerFuncs(c)
}

// dsn is the connection string of the writer, of the readers (readOnly),
// or of readers of a file nobody can be writing (immutable): SQLite then
// neither locks it nor looks for a write-ahead log.
func dsn(path string, readOnly, immutable bool) string {
	v := url.Values{}
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "on")
	if readOnly {
		v.Set("mode", "ro")
		v.Set("_query_only", "true")
		if immutable {
			v.Set("immutable", "1")
		}
	} else {
		v.Set("_journal_mode", "WAL")
		v.Set("_synchronous", "NORMAL")
		v.Set("_txlock", "immediate")
	}
	return "file:" + uriPath.Replace(path) + "?" + v.Encode()
}

// uriPath escapes what SQLite's URI filenames read as syntax: '%' starts
// an escape, '?' the parameters and '#' a fragment, so that a database
// named "runs #2/crawl.db" is that file, not "runs ".
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Open opens (creating if needed) the database at path for crawling: it takes
// an exclusive lock file so that two crawler processes never share one
// frontier, applies pending migrations and prepares the writer's statements.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open database %s: %w", path, store.ErrLocked)
	}
	text, err := store.NewBodyCodec(store.BodyZstd)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{path: path, lock: lock, hosts: hostCache{m: map[string]cachedHost{}}, text: text}
	db.w = sql.OpenDB(newConnector(dsn(path, false, false), tuneWriter))
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	if err := db.check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db.w); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.openReader(false)
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens an existing database for queries only. It works while a
// crawl writes to the same file, and in a directory the user cannot write.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	return OpenReader(ctx, path, store.ReaderOptions{})
}

// OpenReader is OpenReadOnly with options. With MaxValueBytes set, SQLite
// answers "string or blob too big" rather than load or build a longer
// value.
func OpenReader(ctx context.Context, path string, o store.ReaderOptions) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{path: path, maxValue: o.MaxValueBytes}
	db.openReader(false)
	err := db.checkReadable(ctx)
	if err != nil && needsShm(err, path) {
		// A database in WAL mode is read through its -shm file, which SQLite
		// creates beside the database: in a directory the user cannot write
		// that fails. With no write-ahead log left (a crawl that ended
		// cleanly removes it) nobody can be writing, and the file can be
		// read as it is.
		if fi, serr := os.Stat(path + "-wal"); serr == nil && fi.Size() > 0 {
			db.Close()
			return nil, fmt.Errorf("open database %s: %s-wal holds changes not yet copied into the database, and SQLite "+
				"reads them only through %s-shm, which cannot be created in %s (%w): make the directory writable, "+
				"or copy the database with its -wal file to a writable directory", path, path, path, filepath.Dir(path), err)
		}
		db.r.Close()
		db.openReader(true)
		err = db.checkReadable(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, describe(err))
	}
	return db, nil
}

// needsShm reports whether err is SQLite failing to open the -shm file of
// path, which it does not have and cannot create.
func needsShm(err error, path string) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) || (se.Code != sqlite3.ErrReadonly && se.Code != sqlite3.ErrCantOpen) {
		return false
	}
	_, serr := os.Stat(path + "-shm")
	return errors.Is(serr, fs.ErrNotExist)
}

// checkReadable reads the schema through the reader pool and checks that
// the file is a crawl database.
func (db *DB) checkReadable(ctx context.Context) error {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'frontier'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("not a crawl database (no frontier table)")
	}
	return nil
}

// openReader opens the read-only pool (up to four connections per
// process). Each connection gets an 8 MiB page cache: scans are served
// from the OS page cache as well, and four full 32 MiB caches would make a
// crawler's memory follow the size of its database.
func (db *DB) openReader(immutable bool) {
	r := sql.OpenDB(newConnector(dsn(db.path, true, immutable), db.prepareReader))
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	db.r = r
	db.Reader = store.NewReader(r, dialect)
}

// dialect is what the shared read side needs to know about SQLite.
var dialect = store.Dialect{
	Greatest: func(a, b string) string { return "max(" + a + ", " + b + ")" },
	JSONKeys: func(x, alias string) string { return "json_each(" + x + ") AS " + alias },
	Position: func(hay, needle string) string { return "instr(" + hay + ", " + needle + ")" },
	HasTable: `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`,
	Describe: describe,
	MainText: mainTextSQL,
	Now:      `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
}

// prepareReader is the hook of every new reader connection: its page
// cache, its length limit, and the authorizer that keeps it read-only.
func (db *DB) prepareReader(c *sqlite3.SQLiteConn) error {
	if _, err := c.Exec(`PRAGMA cache_size = -8192`, nil); err != nil {
		return err
	}
	if db.maxValue > 0 {
		c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, db.maxValue)
	}
	c.RegisterAuthorizer(readOnlyAuthorizer)
	return registerFuncs(c)
}

// fullCheckMax is the largest database whose every page is checked at
// open. quick_check reads the whole file, about 5 s per GB here, which a
// crawl resumed many times over days should not pay at every start; in a
// larger file a damaged page is reported when it is first read, and the
// transaction that read it rolls back.
var fullCheckMax int64 = 256 << 20

// check verifies that the file is a readable SQLite database before anything
// is written to it, so a corrupt file is reported rather than overwritten.
func (db *DB) check(ctx context.Context) error {
	var tables int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return fmt.Errorf("open database %s: %w", db.path, describe(err))
	}
	if fi, err := os.Stat(db.path); err == nil && fi.Size() <= fullCheckMax {
		var res string
		if err := db.w.QueryRowContext(ctx, `PRAGMA quick_check(1)`).Scan(&res); err != nil {
			return fmt.Errorf("open database %s: %w", db.path, describe(err))
		}
		if res != "ok" {
			return fmt.Errorf("open database %s: integrity check failed: %s", db.path, res)
		}
	}
	var mode string
	if err := db.w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("open database %s: %w", db.path, describe(err))
	}
	if mode != "wal" {
		return fmt.Errorf("open database %s: journal mode is %q, want wal", db.path, mode)
	}
	return nil
}

// describe turns SQLite's terse errors into ones a user can act on.
func describe(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
			return fmt.Errorf("file is not a valid SQLite database or is corrupt (%w)", err)
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return fmt.Errorf("database is locked by another process (%w)", err)
		case sqlite3.ErrCantOpen:
			return fmt.Errorf("cannot open the file: check the path and permissions (%w)", err)
		case sqlite3.ErrReadonly:
			return fmt.Errorf("database is read-only (%w)", err)
		case sqlite3.ErrFull:
			return fmt.Errorf("disk is full (%w)", err)
		case sqlite3.ErrAuth:
			return fmt.Errorf("statement refused: queries may only read this database (SELECT, WITH and the pragmas "+
				"that describe the schema); ATTACH, VACUUM, writes and pragmas that change settings are refused (%w)", err)
		case sqlite3.ErrTooBig:
			return fmt.Errorf("a string or blob is longer than this reader may load or build (%w)", err)
		}
	}
	return err
}

// Path returns the database file path.
func (db *DB) Path() string { return db.path }

// Close closes both pools and releases the lock file.
func (db *DB) Close() error {
	var errs []error
	db.st.close()
	db.dst.close()
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	if db.text != nil {
		db.text.Close()
	}
	return errors.Join(errs...)
}

// migrate applies the SQLite migrations that db has not seen yet, each in
// its own transaction, recording them in schema_migrations.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	set := migrations.SQLite()
	files, err := migrations.List(set)
	if err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", describe(err))
	}
	if last := files[len(files)-1].Version; current > last {
		return fmt.Errorf("migrate: database schema version %d is newer than this binary knows (%d): upgrade the crawler", current, last)
	}
	for _, m := range files {
		if m.Version <= current {
			continue
		}
		if err := apply(ctx, db, set, m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, set fs.FS, m migrations.Migration) error {
	body, err := fs.ReadFile(set, m.Name)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, describe(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, describe(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Name, describe(err))
	}
	return nil
}
