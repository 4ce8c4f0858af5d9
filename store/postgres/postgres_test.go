package postgres

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"

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

// TestOpenErrors: the mistakes a user makes in a database URL, and a
// server that refuses, are errors naming the problem.
func TestOpenErrors(t *testing.T) {
	base := pgtest.URL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	// A role that may connect but create nothing.
	role := "crawler_nocreate_" + pgtest.Name(t)[2:]
	if _, err := admin.Exec(ctx, `CREATE ROLE `+role+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	if _, err := admin.Exec(ctx, `REVOKE CREATE ON DATABASE `+u.Path[1:]+` FROM PUBLIC`); err != nil {
		t.Fatal(err)
	}
	with := func(f func(u *url.URL)) string {
		c := *u
		f(&c)
		return c.String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tt := range []struct {
		name, url, crawl string
		want             []string
		unavailable      bool
	}{
		{"bad port", "postgres://x@127.0.0.1:notaport/db", "c", []string{"invalid PostgreSQL URL", "want postgres://"}, false},
		{"bad crawl name", base, "Bad-Name", []string{`"Bad-Name" is not a crawl name`}, false},
		{"nothing listening", with(func(u *url.URL) { u.Host = closed }), "c", []string{closed, "database unavailable"}, true},
		{"no such database", with(func(u *url.URL) { u.Path = "/no_such_db" }), "c", []string{"the database does not exist"}, false},
		{"no such user", with(func(u *url.URL) { u.User = url.User("no_such_user") }), "c",
			[]string{"authentication failed", "no_such_user"}, false},
		{"no permission", with(func(u *url.URL) { u.User = url.User(role) }), pgtest.Name(t),
			[]string{"permission denied", "needs CREATE"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(ctx, tt.url, tt.crawl, Options{})
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open = %v, want it to say %q", err, w)
				}
			}
			if errors.Is(err, store.ErrUnavailable) != tt.unavailable {
				t.Errorf("Open = %v: unavailable %v, want %v", err, !tt.unavailable, tt.unavailable)
			}
		})
	}
}
