package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/crawler-dev/crawler/testsite"
)

// buildBinary builds the crawler once for tests that run the real binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crawler")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// siteConfig writes a config crawling site as fast as the site allows.
func siteConfig(t *testing.T, dir string, site *testsite.Site) string {
	t.Helper()
	var seeds strings.Builder
	for _, s := range site.Seeds() {
		fmt.Fprintf(&seeds, "  - %s\n", s)
	}
	cfg := fmt.Sprintf(`database: crawl.db
seeds:
%sworkers: 16
limits:
  max_depth: 20
politeness:
  rate: 0
  max_in_flight: 4
  latency_factor: 0
  backoff_base: 50ms
sitemap_discovery: false
fetch:
  retry_base: 50ms
  allow_addresses: [127.0.0.0/8]
`, seeds.String())
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedPages returns url -> status of every page row, and how many URLs are stored more than once.
func storedPages(t *testing.T, dbPath string) (map[string]int, int) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT url, status FROM pages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	dups := 0
	for rows.Next() {
		var u string
		var st int
		if err := rows.Scan(&u, &st); err != nil {
			t.Fatal(err)
		}
		if _, ok := got[u]; ok {
			dups++
		}
		got[u] = st
	}
	return got, dups
}

func countPages(dbPath string) int {
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	db.QueryRow(`SELECT count(*) FROM pages`).Scan(&n)
	return n
}

// TestKillAndResume runs the real binary against the local site, kills it
// with SIGKILL at several points, resumes each time with the same command,
// and checks that the final set of pages equals an uninterrupted crawl's
// and the site's own expectation, with no page stored twice.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the full test site")
	}
	bin := buildBinary(t)
	site, err := testsite.Start(testsite.Options{Hosts: 8, PagesPerHost: 1000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	want := site.Expected()

	// Uninterrupted crawl.
	cleanDir := t.TempDir()
	cfg := siteConfig(t, cleanDir, site)
	if out, err := exec.Command(bin, "run", "--quiet", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	clean, dups := storedPages(t, filepath.Join(cleanDir, "crawl.db"))
	if dups != 0 {
		t.Errorf("uninterrupted crawl stored %d pages twice", dups)
	}
	compareSets(t, "uninterrupted crawl", clean, want)

	// The same crawl, killed at several points.
	dir := t.TempDir()
	cfg = siteConfig(t, dir, site)
	dbPath := filepath.Join(dir, "crawl.db")
	killRuns(t, bin, cfg, dbPath, nil, len(want), []float64{0.05, 0.3, 0.55, 0.8})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	}
	resumed, dups := storedPages(t, dbPath)
	if dups != 0 {
		t.Errorf("killed and resumed crawl stored %d pages twice", dups)
	}
	compareSets(t, "killed and resumed crawl", resumed, clean)
	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var live int
	db.QueryRow(`SELECT count(*) FROM frontier WHERE state IN ('queued', 'leased')`).Scan(&live)
	if live != 0 {
		t.Errorf("%d URLs still queued or leased after the final run", live)
	}
}

// killRuns starts the crawl of cfg once per fraction in fracs and kills it
// with SIGKILL when the database holds that fraction of want pages. env is
// added to the binary's environment.
func killRuns(t *testing.T, bin, cfg, dbPath string, env []string, want int, fracs []float64) {
	t.Helper()
	for i, frac := range fracs {
		cmd := exec.Command(bin, "run", "--quiet", "-c", cfg)
		cmd.Env = append(os.Environ(), env...)
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
				<-exited
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
}

func compareSets(t *testing.T, name string, got, want map[string]int) {
	t.Helper()
	var missing, extra, wrong []string
	for u, st := range want {
		g, ok := got[u]
		switch {
		case !ok:
			missing = append(missing, u)
		case g != st:
			wrong = append(wrong, fmt.Sprintf("%s: %d, want %d", u, g, st))
		}
	}
	for u := range got {
		if _, ok := want[u]; !ok {
			extra = append(extra, u)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra)+len(wrong) > 0 {
		t.Errorf("%s: %d pages, want %d; %d missing %v, %d extra %v, %d wrong status %v", name, len(got), len(want),
			len(missing), head(missing), len(extra), head(extra), len(wrong), head(wrong))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// TestCrawlDelayAcrossKills kills the crawler (SIGKILL) right after a
// host with "Crawl-delay: 4" received a request, and resumes at once,
// three times: from the server's own log, no request to the host follows
// the one before it by much less than the Crawl-delay, across the kills
// too.
func TestCrawlDelayAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the crawler for about a minute")
	}
	bin := buildBinary(t)
	const pages = 6
	var mu sync.Mutex
	var starts []time.Time
	var paths []string
	requests := make(chan struct{}, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		starts = append(starts, time.Now())
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		select {
		case requests <- struct{}{}:
		default:
		}
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nCrawl-delay: 4\n")
		case "/":
			for i := 1; i <= pages; i++ {
				fmt.Fprintf(w, `<a href="/p/%d">%d</a> `, i, i)
			}
		default:
			fmt.Fprint(w, `<html><title>leaf</title></html>`)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`database: crawl.db
seeds: [%s/]
sitemap_discovery: false
politeness:
  rate: 10
fetch:
  allow_addresses: [127.0.0.0/8]
`, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// Kill after the 2nd, 4th and 6th request (robots.txt counts), resuming at once.
	seen := 0
	for _, killAt := range []int{2, 4, 6} {
		cmd := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
	wait:
		for seen < killAt {
			select {
			case <-requests:
				seen++
			case err := <-exited:
				t.Fatalf("run ended before it was killed: %v", err)
			case <-ctx.Done():
				cmd.Process.Kill()
				<-exited
				t.Fatal("requests did not come")
				break wait
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		var next int64
		if db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "crawl.db")+"?mode=ro"); err == nil {
			db.QueryRow(`SELECT next_allowed_at FROM hosts`).Scan(&next)
			db.Close()
		}
		mu.Lock()
		t.Logf("killed after request %d; next allowed %v after it", seen, time.UnixMilli(next).Sub(starts[len(starts)-1]).Round(time.Millisecond))
		mu.Unlock()
	}
	if out, err := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("final run: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) < pages+2 {
		t.Fatalf("%d requests, want at least %d: %v", len(starts), pages+2, paths)
	}
	for i := range starts {
		t.Logf("%v %s", starts[i].Sub(starts[0]).Round(time.Millisecond), paths[i])
	}
	// Arrival times shift on a loaded machine (a request was seen to take
	// a second and a half to arrive, the next one not): allow that much.
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 2500*time.Millisecond {
			t.Errorf("request %d (%s) came %v after %s; Crawl-delay is 4s", i, paths[i], gap.Round(time.Millisecond), paths[i-1])
		}
	}
}
