package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/migrations"
	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/store/storetest"
)

// TestMigrateLinks opens a crawl that kept a row per link: its links read
// the same through the links view, and the inbound link index is built
// from them.
func TestMigrateLinks(t *testing.T) {
	ctx := context.Background()
	url, name := pgtest.URL(t), pgtest.Name(t)
	set := migrations.Postgres()
	ms, err := migrations.List(set)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migrations.Migration) bool { return strings.HasSuffix(m.Name, "_page_links.sql") })
	if i < 0 {
		t.Fatal("no page_links migration")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{name}.Sanitize()
	stmts := []string{`CREATE SCHEMA ` + schema, `SET search_path TO ` + schema,
		`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`}
	for _, m := range ms[:i] {
		body, err := fs.ReadFile(set, m.Name)
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, string(body),
			fmt.Sprintf(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, '%s', 1)`, m.Version, m.Name))
	}
	stmts = append(stmts,
		`INSERT INTO frontier (id, url, depth, source, state, discovered_at, updated_at) VALUES
			(1, 'http://a.example/', 0, 'seed', 'done', 1, 1), (2, 'http://a.example/2', 1, 'link', 'done', 1, 1),
			(3, 'http://a.example/3', 1, 'link', 'done', 1, 1)`,
		`INSERT INTO pages (id, url_id, url, final_url, status, fetched_at, duration_ms, size, depth) VALUES
			(1, 1, 'http://a.example/', 'http://a.example/', 200, 1, 1, 1, 0),
			(2, 2, 'http://a.example/2', 'http://a.example/2', 200, 1, 1, 1, 1),
			(3, 3, 'http://a.example/3', 'http://a.example/3', 200, 1, 1, 1, 1)`,
		`INSERT INTO links (from_id, to_url, anchor, nofollow) VALUES
			(1, 'http://a.example/2', 'Two "quoted"', false), (1, 'http://a.example/x', NULL, true),
			(2, 'http://a.example/x', 'X', false)`)
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	db, err := Open(ctx, url, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckMigratedLinks(t, db)
}
