// Package pgtest gives tests a PostgreSQL server: the one the environment
// variable CRAWLER_TEST_POSTGRES names (a superuser URL to the postgres
// database, as scripts/with-postgres exports it). Without it a test
// skips, saying how to run it, except in CI (CI=true), where a missing
// server is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env is the variable naming the test server.
const Env = "CRAWLER_TEST_POSTGRES"

// URL returns the test server's URL, or skips t (fails it in CI).
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		msg := Env + " is not set: PostgreSQL tests need a server (make test starts a throwaway one with " +
			"scripts/with-postgres; or run: ./scripts/with-postgres go test ./...)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

// Name returns a new crawl name for t, whose schema is dropped when t
// ends.
func Name(t testing.TB) string {
	t.Helper()
	url := URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	t.Cleanup(func() { Drop(t, url, name) })
	return name
}

// Drop drops the schema of the crawl name.
func Drop(t testing.TB, url, name string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Logf("drop crawl %s: %v", name, err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
		t.Logf("drop crawl %s: %v", name, err)
	}
}
