package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/migrations"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/storetest"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the stores' conformance suite against SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) storetest.Store { return openTest(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			db := s.(*DB)
			// Closing releases no lease: it is what a crash leaves.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			again, err := Open(context.Background(), db.Path())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { again.Close() })
			return again
		},
	})
}

// TestMigrateFromEachVersion opens databases left at every earlier schema
// version: each is migrated to the latest, and a crawl database it holds
// keeps its rows.
func TestMigrateFromEachVersion(t *testing.T) {
	ctx := context.Background()
	set := migrations.SQLite()
	ms, err := migrations.List(set)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v < len(ms); v++ {
		path, old := oldDatabase(t, set, ms[:v])
		if _, err := old.Exec(`INSERT INTO frontier (url, depth, source, state, discovered_at, updated_at)
			VALUES ('http://a.example/', 0, 'seed', 'skipped', 1, 1)`); err != nil {
			t.Fatal(err)
		}
		old.Close()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("open a database at version %d: %v", v, err)
		}
		var version, n int
		db.SQL().QueryRow(`SELECT max(version), (SELECT count(*) FROM frontier) FROM schema_migrations`).Scan(&version, &n)
		db.Close()
		if version != len(ms) || n != 1 {
			t.Errorf("database at version %d: migrated to %d with %d frontier rows, want %d with 1", v, version, n, len(ms))
		}
	}
}

// oldDatabase returns the path of a new database with only the migrations
// ms of set applied, and a connection to it for the caller to fill and
// close.
func oldDatabase(t *testing.T, set fs.FS, ms []migrations.Migration) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := apply(context.Background(), old, set, m); err != nil {
			t.Fatal(err)
		}
	}
	return path, old
}

// TestMigrateLinks opens a database that kept a row per link: its links
// read the same through the links view, and the inbound link index is
// built from them.
func TestMigrateLinks(t *testing.T) {
	ctx := context.Background()
	set := migrations.SQLite()
	ms, err := migrations.List(set)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migrations.Migration) bool { return strings.HasSuffix(m.Name, "_page_links.sql") })
	if i < 0 {
		t.Fatal("no page_links migration")
	}
	path, old := oldDatabase(t, set, ms[:i])
	for _, q := range []string{
		`INSERT INTO frontier (id, url, depth, source, state, discovered_at, updated_at) VALUES
			(1, 'http://a.example/', 0, 'seed', 'done', 1, 1), (2, 'http://a.example/2', 1, 'link', 'done', 1, 1),
			(3, 'http://a.example/3', 1, 'link', 'done', 1, 1)`,
		`INSERT INTO pages (id, url_id, url, final_url, status, fetched_at, duration_ms, size, depth) VALUES
			(1, 1, 'http://a.example/', 'http://a.example/', 200, 1, 1, 1, 0),
			(2, 2, 'http://a.example/2', 'http://a.example/2', 200, 1, 1, 1, 1),
			(3, 3, 'http://a.example/3', 'http://a.example/3', 200, 1, 1, 1, 1)`,
		`INSERT INTO links (from_id, to_url, anchor, nofollow) VALUES
			(1, 'http://a.example/2', 'Two "quoted"', 0), (1, 'http://a.example/x', NULL, 1),
			(2, 'http://a.example/x', 'X', 0)`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMigratedLinks(t, db)
}

func TestOpenTwiceIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(context.Background(), path)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestOpenCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	junk := []byte(strings.Repeat("this is not a database ", 400))
	if err := os.WriteFile(path, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "not a valid SQLite database") {
		t.Fatalf("Open(corrupt) = %v, want a clear corruption error", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(junk) {
		t.Fatal("Open modified the corrupt file")
	}
}

// TestOpenLargeFile opens files the way one above fullCheckMax is opened,
// with a schema read instead of a full check: a database opens, junk is
// refused and left as it was.
func TestOpenLargeFile(t *testing.T) {
	old := fullCheckMax
	fullCheckMax = 0
	t.Cleanup(func() { fullCheckMax = old })
	path := filepath.Join(t.TempDir(), "crawl.db")
	for i := 0; i < 2; i++ { // create, then reopen
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		db.Close()
	}
	junkPath := filepath.Join(t.TempDir(), "junk.db")
	junk := []byte(strings.Repeat("this is not a database ", 400))
	if err := os.WriteFile(junkPath, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), junkPath); err == nil || !strings.Contains(err.Error(), "not a valid SQLite database") {
		t.Fatalf("Open(junk) = %v, want a clear corruption error", err)
	}
	if got, _ := os.ReadFile(junkPath); string(got) != string(junk) {
		t.Fatal("Open modified the junk file")
	}
}

func TestReaderWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO runs (started_at) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// A write transaction is open: readers still answer at once.
	ro, err := OpenReadOnly(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Status(ctx); err != nil {
		t.Fatalf("Status during a write: %v", err)
	}
	if _, err := ro.SQL().Exec(`DELETE FROM runs`); err == nil {
		t.Fatal("read-only pool accepted a write")
	}
}

func TestSetInboundLinkIndex(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	count := func() int {
		var n int
		db.SQL().QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'link_targets'`).Scan(&n)
		return n
	}
	for _, on := range []bool{false, false, true, true} {
		if err := db.SetInboundLinkIndex(ctx, on); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[on]; count() != want {
			t.Fatalf("SetInboundLinkIndex(%v): %d link_targets tables, want %d", on, count(), want)
		}
	}
}

// TestConnectionCaches checks the page cache of the writer and of the
// readers, which bound the memory SQLite takes however large the database.
func TestConnectionCaches(t *testing.T) {
	db := openTest(t)
	var w, r int
	if err := db.w.QueryRow(`PRAGMA cache_size`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL().QueryRow(`PRAGMA cache_size`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != -32768 || r != -8192 {
		t.Errorf("cache_size: writer %d, reader %d; want -32768 (32 MiB) and -8192 (8 MiB)", w, r)
	}
}

// TestPageLinksText: a page's links are stored as TEXT (bound as a BLOB,
// which SQLite's JSON functions would read as JSONB).
func TestPageLinksText(t *testing.T) {
	db := openTest(t)
	storetest.CommitPages(t, db, storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/", Status: 200},
		Links: []store.Link{{URL: storetest.Origin + "/a", Anchor: "A"}}})
	var typ, to string
	if err := db.SQL().QueryRow(`SELECT typeof(l.links), (SELECT to_url FROM links) FROM page_links l`).Scan(&typ, &to); err != nil {
		t.Fatal(err)
	}
	if typ != "text" || to != storetest.Origin+"/a" {
		t.Errorf("page_links.links is %s with link %q; want text with %q", typ, to, storetest.Origin+"/a")
	}
}

// TestPathWithURISyntax opens databases whose paths hold what SQLite's URI
// filenames treat as syntax: each must be the very file named, written by
// the crawler and read back by the readers, with nothing created beside it.
func TestPathWithURISyntax(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"runs #2", "what?", "100%", "a%20b", "x?mode=ro#y"} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, name)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "crawl.db")
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.w.ExecContext(ctx, `INSERT INTO runs (started_at) VALUES (42)`); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("database not at its path: %v", err)
			}
			entries, err := os.ReadDir(root)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("files beside the database's directory: %q", names)
			}
			ro, err := OpenReadOnly(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			var started int64
			if err := ro.SQL().QueryRowContext(ctx, `SELECT started_at FROM runs`).Scan(&started); err != nil || started != 42 {
				t.Fatalf("read back: %d, %v", started, err)
			}
		})
	}
}
