// Package migrations holds the numbered SQL files that define the crawler's
// schema, one set per database engine: sqlite/ for the SQLite store,
// postgres/ for the PostgreSQL store. Files are named
// NNNN_name.sql, applied in order, once each, and never edited after
// release: a change is a new file with the next number.
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// files holds every set, one directory each.
//
//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// SQLite returns the SQLite store's migrations.
func SQLite() fs.FS { return set("sqlite") }

// Postgres returns the PostgreSQL store's migrations.
func Postgres() fs.FS { return set("postgres") }

// set returns the files of the set in directory dir.
func set(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		// fs.Sub fails only on an invalid path, and dir is a constant.
		panic(err)
	}
	return sub
}

// Migration is one numbered schema file of a set.
type Migration struct {
	Version int
	Name    string // the file name, NNNN_name.sql
}

// List returns the migration files of set in order, and an error unless
// they are named NNNN_name.sql and numbered 1, 2, 3 ... with no gap or
// duplicate.
func List(set fs.FS) ([]Migration, error) {
	names, err := fs.Glob(set, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var out []Migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", n)
		}
		out = append(out, Migration{Version: v, Name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %04d", m.Name, i+1)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return out, nil
}
