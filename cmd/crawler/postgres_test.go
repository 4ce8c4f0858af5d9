package main

import (
	"bytes"
	"context"
	"io"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/testsite"
)

// pgConfig writes a config crawling site into the crawl name of the
// PostgreSQL database url, with extra appended.
func pgConfig(t *testing.T, dir string, site *testsite.Site, url, name, extra string) string {
	t.Helper()
	path := siteConfig(t, dir, site)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "database: crawl.db\n", "database: "+url+"\nname: "+name+"\n", 1) + extra
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pgPages returns url -> status of every page row of the crawl name, and
// how many URLs are stored more than once.
func pgPages(t *testing.T, url, name string) (map[string]int, int) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT url, status FROM `+pgx.Identifier{name, "pages"}.Sanitize())
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

// TestPostgresCrawl crawls the local site into PostgreSQL with the same
// command and config as SQLite, but for the database, and reads the
// result back with the commands that read a crawl.
func TestPostgresCrawl(t *testing.T) {
	url := pgtest.URL(t)
	name := pgtest.Name(t)
	site, err := testsite.Start(testsite.Options{Hosts: 3, PagesPerHost: 150, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := pgConfig(t, dir, site, url, name, "")
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"run", "--quiet", "-c", cfg}, &out, &errb); err != nil {
		t.Fatalf("crawler run: %v\n%s", err, errb.String())
	}
	got, dups := pgPages(t, url, name)
	if dups != 0 {
		t.Errorf("%d pages stored twice", dups)
	}
	compareSets(t, "crawl into PostgreSQL", got, site.Expected())
	if _, err := os.Stat(filepath.Join(dir, "crawl.db")); err == nil {
		t.Error("a SQLite file was created beside the config")
	}

	out.Reset()
	if err := run(ctx, []string{"query", "-c", cfg, "--json", "SELECT count(*) AS n FROM pages"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if want := `{"n":`; !strings.Contains(out.String(), want) {
		t.Errorf("query printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"status", "--db", url, "--name", name}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(crawl "+name+")") || !strings.Contains(out.String(), "queued 0, leased 0") ||
		!strings.Contains(out.String(), "workers:") || !strings.Contains(out.String(), "stopped") {
		t.Errorf("status printed:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"explain", "-c", cfg, site.Seeds()[0]}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "recorded by ") || !strings.Contains(out.String(), "(worker 1)") {
		t.Errorf("explain printed:\n%s", out.String())
	}
	err = run(ctx, []string{"status", "--db", url, "--name", "no_such_crawl"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `no crawl named "no_such_crawl"`) || !strings.Contains(err.Error(), name) {
		t.Errorf("status of a crawl that does not exist = %v, want an error listing the crawls", err)
	}
	t.Setenv(databaseEnv, url)
	out.Reset()
	if err := run(ctx, []string{"status", "--name", name}, &out, &errb); err != nil || !strings.Contains(out.String(), "(crawl "+name+")") {
		t.Errorf("status with %s and no config = %v:\n%s", databaseEnv, err, out.String())
	}
}

// lineSignal is a log writer that closes found when a line containing
// want is written.
type lineSignal struct {
	mu    sync.Mutex // guards buf, once
	buf   bytes.Buffer
	want  string
	found chan struct{}
	once  bool
}

func (w *lineSignal) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if !w.once && strings.Contains(w.buf.String(), w.want) {
		w.once = true
		close(w.found)
	}
	return len(b), nil
}

func (w *lineSignal) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestPostgresOutageMidCrawl cuts the crawler off PostgreSQL in the middle
// of a crawl (every connection closed, new ones refused, as when the server
// restarts or the network fails), and restores it once the crawler has
// noticed: the crawler pauses, retries, continues, and stores the site
// exactly once, with nothing left leased.
func TestPostgresOutageMidCrawl(t *testing.T) {
	url := pgtest.URL(t)
	name := pgtest.Name(t)
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	site, err := testsite.Start(testsite.Options{Hosts: 3, PagesPerHost: 300, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	// Cut once the crawler has sent 2 MB to the server: well into the crawl.
	proxy := newPGProxy(t, u.Host, 2<<20)
	viaProxy := *u
	viaProxy.Host = proxy.addr()
	// A host lease whose answer the outage lost is taken over when it runs
	// out: keep that short.
	cfg := pgConfig(t, t.TempDir(), site, viaProxy.String(), name, "")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "politeness:\n", "politeness:\n  host_lease: 20s\n  max_crawl_delay: 5s\n", 1)
	text = strings.Replace(text, "fetch:\n", "fetch:\n  total_timeout: 5s\n", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &lineSignal{want: "database unavailable", found: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "--log-format", "json", "-c", cfg}, io.Discard, logs) }()
	select {
	case <-proxy.cutDone:
	case err := <-done:
		t.Fatalf("the crawl ended before the outage (%v): make the site larger\n%s", err, logs)
	}
	select {
	case <-logs.found:
	case err := <-done:
		t.Fatalf("the crawl ended during the outage: %v\n%s", err, logs)
	}
	proxy.restore()
	if err := <-done; err != nil {
		t.Fatalf("crawler run: %v\n%s", err, logs)
	}
	// Each outage is logged once as it begins (then at most every 10 s,
	// see TestOutageLogsOncePerInterval) and once as it ends, however
	// many calls failed during it.
	began := strings.Count(logs.String(), `"msg":"database unavailable:`)
	ended := strings.Count(logs.String(), `"msg":"database available again`)
	if began == 0 || ended != began {
		t.Errorf("%d outages logged as begun, %d as ended, want as many and some:\n%s", began, ended, logs)
	}
	got, dups := pgPages(t, url, name)
	if dups != 0 {
		t.Errorf("%d pages stored twice", dups)
	}
	compareSets(t, "crawl through an outage", got, site.Expected())
	if n := pgCount(t, url, name, `SELECT count(*) FROM frontier WHERE state IN ('queued', 'leased')`); n != 0 {
		t.Errorf("%d URLs left queued or leased", n)
	}
}

// pgCount runs a count query in the crawl name's schema.
func pgCount(t *testing.T, url, name, query string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `SET search_path = `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
