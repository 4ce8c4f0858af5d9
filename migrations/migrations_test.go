package migrations

import (
	"io/fs"
	"os"
	"testing"
	"testing/fstest"
)

// TestSetsNumbered checks every set: each directory beside this file is
// embedded, and its files are numbered 1, 2, 3 ... with no gap.
func TestSetsNumbered(t *testing.T) {
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	sets := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sets++
		onDisk, err := fs.Glob(os.DirFS(e.Name()), "*.sql")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := List(set(e.Name()))
		if err != nil {
			t.Errorf("set %s: %v", e.Name(), err)
			continue
		}
		if len(ms) != len(onDisk) {
			t.Errorf("set %s: %d files embedded, %d on disk: add the directory to the go:embed line", e.Name(), len(ms), len(onDisk))
		}
		for i, m := range ms {
			if m.Version != i+1 {
				t.Errorf("set %s: migration %d is %s", e.Name(), i+1, m.Name)
			}
		}
	}
	if sets == 0 {
		t.Fatal("no migration sets")
	}
	if ms, err := List(SQLite()); err != nil || len(ms) < 4 {
		t.Errorf("SQLite() = %d migrations, %v", len(ms), err)
	}
	if ms, err := List(Postgres()); err != nil || len(ms) < 1 {
		t.Errorf("Postgres() = %d migrations, %v", len(ms), err)
	}
}

func TestListRefusesBadNumbering(t *testing.T) {
	for name, set := range map[string]fstest.MapFS{
		"gap":       {"0001_a.sql": {}, "0003_c.sql": {}},
		"duplicate": {"0001_a.sql": {}, "0001_b.sql": {}},
		"bad name":  {"0001_a.sql": {}, "2_b.sql": {}},
		"empty":     {},
	} {
		if _, err := List(set); err == nil {
			t.Errorf("%s: List accepted it", name)
		}
	}
}
