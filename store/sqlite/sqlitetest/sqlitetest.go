// Package sqlitetest holds helpers for tests over SQLite crawl databases.
package sqlitetest

import (
	"database/sql"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver the store uses
)

// PassTime moves every revisit schedule of the database at path d earlier,
// as if d had passed: the URLs due within d become due now. Run it with
// the database closed.
func PassTime(t testing.TB, path string, d time.Duration) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`UPDATE frontier SET next_fetch_at = next_fetch_at - ? WHERE next_fetch_at IS NOT NULL`,
		`UPDATE hosts SET next_revisit_at = next_revisit_at - ? WHERE next_revisit_at IS NOT NULL`,
	} {
		if _, err := db.Exec(q, d.Milliseconds()); err != nil {
			t.Fatal(err)
		}
	}
}
