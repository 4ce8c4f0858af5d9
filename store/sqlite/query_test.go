package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/storetest"
)

// TestReadOnlyAuthorizer: the read-only pool answers the pragmas that
// describe the schema and refuses anything that writes, attaches or
// creates a file, through plain reader queries (crawler query) and
// UserQuery (the service) alike.
func TestReadOnlyAuthorizer(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	storetest.CommitPages(t, db, storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/", Status: 200, Title: "home"}})
	ro, err := OpenReadOnly(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	dir := t.TempDir()
	for _, q := range []string{
		"PRAGMA table_info(pages)", "SELECT name FROM pragma_table_info('pages')", "PRAGMA index_list(frontier)",
		"PRAGMA main.table_xinfo('pages')", "SELECT * FROM pragma_index_list('frontier')", "PRAGMA table_list",
		"PRAGMA foreign_key_list(page_links)", "PRAGMA cache_size", "SELECT count(*) FROM pages",
		"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 5) SELECT sum(i) FROM c",
		"SELECT key FROM json_each('{\"a\": 1}')",
	} {
		for name, run := range map[string]func() (int, error){
			"reader": func() (int, error) {
				rows, err := ro.SQL().QueryContext(ctx, q)
				return drain(rows, err)
			},
			"UserQuery": func() (int, error) {
				rows, err := ro.UserQuery(ctx, q, 1<<20)
				if err != nil {
					return 0, err
				}
				return drain(rows, nil)
			},
		} {
			if n, err := run(); err != nil || n == 0 {
				t.Errorf("%s %q: %d rows, %v; want rows", name, q, n, err)
			}
		}
	}
	for i, q := range []string{
		"ATTACH DATABASE 'file:" + filepath.Join(dir, "attached.db") + "?mode=rwc' AS o",
		"VACUUM INTO '" + filepath.Join(dir, "copy.db") + "'",
		"DELETE FROM pages", "CREATE TEMP TABLE t (x)", "PRAGMA query_only = 0", "PRAGMA cache_size = 1",
		"PRAGMA writable_schema = 1", "PRAGMA wal_checkpoint", "PRAGMA optimize", "BEGIN", "ANALYZE",
		"SELECT load_extension('x')", "PRAGMA database_list",
	} {
		rows, err := ro.SQL().QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err == nil {
			t.Errorf("reader %q: no error, want it refused", q)
		}
		urows, err := ro.UserQuery(ctx, q, 1<<20)
		if err == nil {
			urows.Close()
			t.Errorf("UserQuery %q: no error, want it refused", q)
		} else if i < 2 && !strings.Contains(err.Error(), "statement refused: queries may only read") {
			t.Errorf("UserQuery %q: error %q, want it to say why", q, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused statements created %d files in %s", len(entries), dir)
	}
}

// drain reads rows to the end, closes them and returns their number.
func drain(rows interface {
	Next() bool
	Err() error
	Close() error
}, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// TestUserQueryBounds: a statement cannot build or load a value larger than
// its share of the row budget; it fails at once with a clear error, and the
// connection gets its own limit back.
func TestUserQueryBounds(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	storetest.CommitPages(t, db, storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/", Status: 200, Title: strings.Repeat("t", 5<<20)}})
	ro, err := OpenReader(ctx, db.Path(), store.ReaderOptions{MaxValueBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ro.SQL().SetMaxOpenConns(1) // every statement below runs on the same connection
	const budget = 8 << 20
	run := func(q string) error {
		rows, err := ro.UserQuery(ctx, q, budget)
		if err != nil {
			return err
		}
		_, err = drain(rows, nil)
		return err
	}
	for _, tt := range []struct{ q, want string }{
		{"SELECT hex(randomblob(100000000))", "longer than the 8388608 bytes each of this statement's 1 columns may hold"},
		{"SELECT length(randomblob(1e9))", "longer than the 8388608 bytes"},
		{"SELECT hex(randomblob(3000000)), 2, 3", "longer than the 2796202 bytes each of this statement's 3 columns"},
		{"SELECT title, url FROM pages", "longer than the 4194304 bytes each of this statement's 2 columns"},
		{"SELECT group_concat(hex(randomblob(1000000))) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5)", "longer than"},
	} {
		if err := run(tt.q); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.60s: error %v, want it to contain %q", tt.q, err, tt.want)
		}
	}
	// Within the budget, and after the refusals, values are whole again.
	if err := run("SELECT hex(randomblob(4000000))"); err != nil {
		t.Errorf("an 8 MB value in a 1-column statement: %v", err)
	}
	if err := run("SELECT url, hex(randomblob(2000000)) FROM pages"); err != nil {
		t.Errorf("a 4 MB value in a 2-column statement: %v", err)
	}
	var n int
	if err := ro.SQL().QueryRowContext(ctx, `SELECT length(hex(randomblob(6000000)))`).Scan(&n); err != nil || n != 12000000 {
		t.Errorf("the pool's own limit was not restored: %d, %v", n, err)
	}
	// The pool's own limit holds for every statement.
	if err := ro.SQL().QueryRowContext(ctx, `SELECT length(hex(randomblob(9000000)))`).Scan(&n); err == nil {
		t.Errorf("a value of 18 MB passed the pool's 16 MiB limit")
	}
}

func TestOneStatement(t *testing.T) {
	for q, ok := range map[string]bool{
		"SELECT 1":                          true,
		"SELECT 1;":                         true,
		"SELECT 1; ;\n -- done\n /* end */": true,
		"SELECT ';' AS a, \"b;\", [c;], `d;` FROM t -- ; SELECT 2": true,
		"SELECT 'it''s; fine'":           true,
		"SELECT 1 /* ; SELECT 2 */":      true,
		"SELECT 'unterminated; SELECT 2": true, // SQLite reports it
		"SELECT 1; SELECT 2":             false,
		"SELECT 1;ATTACH 'x' AS y":       false,
		"SELECT 1; -- c\nSELECT 2":       false,
		"SELECT 1; /* c */ VACUUM":       false,
	} {
		if err := oneStatement(q); (err == nil) != ok {
			t.Errorf("oneStatement(%q) = %v, want ok %v", q, err, ok)
		}
	}
	ctx := context.Background()
	db := openTest(t)
	rows, err := db.UserQuery(ctx, "SELECT 1; SELECT 2", 1<<20)
	if err == nil {
		rows.Close()
		t.Fatal("UserQuery ran two statements")
	} else if !strings.Contains(err.Error(), "one statement only") {
		t.Errorf("UserQuery of two statements: %v", err)
	}
	for _, q := range []string{"EXPLAIN QUERY PLAN SELECT * FROM pages", "EXPLAIN SELECT 1", "SELECT 1 -- the end"} {
		rows, err := db.UserQuery(ctx, q, 1<<20)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		if n, err := drain(rows, nil); err != nil || n == 0 {
			t.Errorf("%s: %d rows, %v", q, n, err)
		}
	}
}

func TestQueryValues(t *testing.T) {
	db := openTest(t)
	rows, err := db.UserQuery(context.Background(), `SELECT 1, 2.5, 'text', CAST('blob text' AS BLOB), x'00ff', NULL`, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	vals, err := rows.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), 2.5, "text", "blob text", "<2 bytes>", nil}
	if len(vals) != len(want) {
		t.Fatalf("Values = %v, want %d values", vals, len(want))
	}
	for i, v := range vals {
		if got := store.JSONValue(v); got != want[i] {
			t.Errorf("JSONValue(%#v) = %#v, want %#v", v, got, want[i])
		}
	}
	at := time.Date(2026, 5, 1, 14, 0, 0, 5, time.FixedZone("x", 7200))
	if got := store.JSONValue(at); got != "2026-05-01T12:00:00.000000005Z" {
		t.Errorf("JSONValue(%v) = %v, want RFC 3339 in UTC", at, got)
	}
}
