package postgres

import (
	"context"
	"testing"

	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/store/storetest"
)

// openTest opens a new crawl for t on the test server.
func openTest(t *testing.T) *DB {
	t.Helper()
	url := pgtest.URL(t)
	db, err := Open(context.Background(), url, pgtest.Name(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the stores' conformance suite against PostgreSQL.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T) storetest.Store { return openTest(t) },
		Reopen: func(t *testing.T, s storetest.Store) storetest.Store {
			db := s.(*DB)
			// Closing releases no lease: it is what a crash leaves.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			again, err := Open(context.Background(), db.URL(), db.Name(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { again.Close() })
			return again
		},
		Join: func(t *testing.T, s storetest.Store) storetest.Store {
			db := s.(*DB)
			other, err := Open(context.Background(), db.URL(), db.Name(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			return other
		},
	})
}
