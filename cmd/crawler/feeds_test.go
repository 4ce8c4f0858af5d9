package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

// TestFeedsAcrossKills kills the real binary several times during a crawl
// that feeds items to a JSONL and a CSV file and pages to a JSONL file,
// then resumes it to the end: every committed record is in each file
// exactly once, and the CSV file has its header once.
func TestFeedsAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the test site several times")
	}
	bin := buildBinary(t)
	site, err := testsite.Start(testsite.Options{Hosts: 4, PagesPerHost: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := siteConfig(t, dir, site)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`extract:
  - name: page
    match: "*"
    fields:
      - {name: title, selector: title}
      - {name: heading, selector: h1}
feeds:
  - {path: items.jsonl}
  - {path: items.csv}
  - {path: pages.jsonl, table: pages}
`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dbPath := filepath.Join(dir, "crawl.db")
	want := len(site.Expected())
	for i, frac := range []float64{0.1, 0.35, 0.6, 0.85} {
		cmd := exec.Command(bin, "run", "--quiet", "-c", cfg)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		target := int(frac * float64(want))
		deadline := time.After(2 * time.Minute)
		tick := time.NewTicker(10 * time.Millisecond)
	wait:
		for {
			select {
			case err := <-exited:
				t.Fatalf("run %d ended before it was killed (err %v) at %d pages\n%s", i, err, countPages(dbPath), stderr.String())
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("run %d: %d pages not reached", i, target)
			case <-tick.C:
				if countPages(dbPath) >= target {
					break wait
				}
			}
		}
		tick.Stop()
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		t.Logf("killed run %d at %d pages", i, countPages(dbPath))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	}

	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := func(q string) map[int64]bool {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out[id] = true
		}
		return out
	}
	items, pages := ids(`SELECT id FROM items`), ids(`SELECT id FROM pages`)
	if len(items) < want/2 {
		t.Fatalf("%d items for %d pages: the rule did not apply", len(items), want)
	}
	checkOnce(t, "items.jsonl", jsonlIDs(t, filepath.Join(dir, "items.jsonl")), items)
	checkOnce(t, "pages.jsonl", jsonlIDs(t, filepath.Join(dir, "pages.jsonl")), pages)
	checkOnce(t, "items.csv", csvIDs(t, filepath.Join(dir, "items.csv")), items)
}

// jsonlIDs returns the id of every line of a JSONL file, failing on a line
// that is not a JSON object.
func jsonlIDs(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var rec struct{ ID int64 }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.ID == 0 {
			t.Fatalf("%s:%d: %v: %q", path, line, err, sc.Text())
		}
		out = append(out, rec.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// csvIDs returns the id column of a CSV file, failing unless it is valid
// CSV with its header on the first line only.
func csvIDs(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 || recs[0][0] != "id" {
		t.Fatalf("%s: no header", path)
	}
	var out []int64
	for i, r := range recs[1:] {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			t.Fatalf("%s: record %d: id %q (a second header?)", path, i+2, r[0])
		}
		out = append(out, id)
	}
	return out
}

// checkOnce fails unless got holds each id of want exactly once.
func checkOnce(t *testing.T, name string, got []int64, want map[int64]bool) {
	t.Helper()
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	dups, extra, missing := 0, 0, 0
	for id, n := range seen {
		if n > 1 {
			dups++
		}
		if !want[id] {
			extra++
		}
	}
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	if dups+extra+missing > 0 {
		t.Errorf("%s: %d records, %d written more than once, %d not in the database, %d of %d missing",
			name, len(got), dups, extra, missing, len(want))
	}
}
