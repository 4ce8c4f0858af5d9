package crawl

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// smallSite is a tiny site: /, /p/0../p/(n-1) in a chain with back links, a
// redirect, a 404, a robots-disallowed page and a page that fails twice.
type smallSite struct {
	mu    sync.Mutex
	hits  map[string]int // guarded by mu
	flaky int            // 503s left for /flaky, guarded by mu
}

func (s *smallSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.RequestURI()]++
	s.mu.Unlock()
	switch p := r.URL.Path; {
	case p == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nDisallow: /private\n")
	case p == "/":
		fmt.Fprint(w, `<html><head><title>Home</title></head><body>
			<a href="/p/0">first</a> <a href="/old">old</a> <a href="/missing">missing</a>
			<a href="/private/x">private</a> <a href="/flaky">flaky</a>
			<a href="/p/0?utm_source=x#top">tracked</a> <a href="mailto:a@b">mail</a></body></html>`)
	case strings.HasPrefix(p, "/p/"):
		var n int
		fmt.Sscanf(p, "/p/%d", &n)
		fmt.Fprintf(w, `<html><head><title>Page %d</title><meta name="description" content="d%d"></head>
			<body><a href="/">home</a> <a href="%d">next</a></body></html>`, n, n, n+1)
	case p == "/old":
		http.Redirect(w, r, "/p/1", http.StatusMovedPermanently)
	case p == "/flaky":
		s.mu.Lock()
		fail := s.flaky > 0
		s.flaky--
		s.mu.Unlock()
		if fail {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `<html><title>Flaky</title></html>`)
	default:
		http.NotFound(w, r)
	}
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testConfig(t *testing.T, seed string) *Config {
	t.Helper()
	cfg := Defaults()
	cfg.Database = filepath.Join(t.TempDir(), "crawl.db")
	cfg.Seeds = []string{seed}
	cfg.Workers = 4
	cfg.Limits.MaxDepth = 50
	cfg.Politeness.Rate = 0
	cfg.Politeness.MaxInFlight = 2
	cfg.Politeness.BackoffBase = time.Millisecond
	cfg.Fetch.RetryBase = time.Millisecond
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	return &cfg
}

// seededEngine opens cfg's database and returns an engine with the seeds
// added, and the database for the caller to close.
func seededEngine(t *testing.T, cfg *Config) (*Engine, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	if err := e.Seed(ctx, nil); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return e, db
}

// crawlOnce crawls cfg from its seeds to the end, and checks that the run
// left no goroutine behind.
func crawlOnce(t *testing.T, cfg *Config) Outcome {
	t.Helper()
	before := goleak.IgnoreCurrent()
	e, db := seededEngine(t, cfg)
	out, err := e.Run(context.Background(), time.Second)
	db.Close()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left after the run: %v", err)
	}
	return out
}

func queryMap(t *testing.T, path, q string) map[string]string {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	return m
}

func TestCrawlSmallSite(t *testing.T) {
	site := &smallSite{hits: map[string]int{}, flaky: 2}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	if out := crawlOnce(t, cfg); out != OutcomeFinished {
		t.Fatalf("outcome %s", out)
	}
	states := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`)
	base := srv.URL
	want := map[string]string{
		base + "/":          "done",
		base + "/p/0":       "done",
		base + "/p/1":       "done",
		base + "/old":       "done HTTP 301 redirect to " + base + "/p/1",
		base + "/missing":   "failed",
		base + "/private/x": "skipped robots.txt",
		base + "/flaky":     "done",
	}
	for u, prefix := range want {
		if got, ok := states[u]; !ok || !strings.HasPrefix(got, prefix) {
			t.Errorf("state of %s = %q, want prefix %q", u, got, prefix)
		}
	}
	// The chain /p/N ends at max_depth 50. /p/1 is at depth 1 or 2 (the
	// redirect from /old and the link from /p/0 race; the shorter path wins
	// only while /p/1 waits in the queue), so the first page skipped by
	// depth is /p/50 or /p/51.
	p50, p51 := states[base+"/p/50"], states[base+"/p/51"]
	if !(strings.HasPrefix(p50, "skipped depth") || strings.HasPrefix(p50, "done") && strings.HasPrefix(p51, "skipped depth")) {
		t.Errorf("states of /p/50, /p/51 = %q, %q; want the chain cut by max_depth there", p50, p51)
	}
	site.mu.Lock()
	defer site.mu.Unlock()
	for path, n := range site.hits {
		switch {
		case path == "/flaky":
			if n != 3 {
				t.Errorf("/flaky fetched %d times, want 3 (two 503s, then 200)", n)
			}
		case strings.HasPrefix(path, "/private"):
			t.Errorf("robots-disallowed %s was fetched", path)
		case n != 1:
			t.Errorf("%s fetched %d times, want once", path, n)
		}
	}
	attempts := queryMap(t, cfg.Database, `SELECT url, attempts FROM frontier WHERE url LIKE '%/flaky'`)
	if attempts[base+"/flaky"] != "3" {
		t.Errorf("attempts of /flaky = %s, want 3", attempts[base+"/flaky"])
	}
	dup := queryMap(t, cfg.Database, `SELECT 'n', count(*) - count(DISTINCT url) FROM pages`)
	if dup["n"] != "0" {
		t.Errorf("%s pages stored twice", dup["n"])
	}
	// Resuming a finished crawl fetches nothing more.
	before := len(site.hits)
	site.mu.Unlock()
	crawlOnce(t, cfg)
	site.mu.Lock()
	if len(site.hits) != before {
		t.Errorf("second run fetched new paths")
	}
}

func TestIdentityBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"price": 12.5}`)
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/item.json")
	cfg.Store.Bodies = "identity"
	crawlOnce(t, cfg)
	got := queryMap(t, cfg.Database, `SELECT body_encoding, json_extract(CAST(body AS TEXT), '$.price') FROM pages WHERE url LIKE '%/item.json'`)
	if got["identity"] != "12.5" {
		t.Fatalf("stored bodies %v, want an uncompressed JSON body queryable with json_extract", got)
	}
}

// TestLimitWithManyHostsQueued stops at limits.max_pages while thousands of
// other hosts are still being activated and claimed: the run must end
// cleanly (no work sent to the stopped feeder) and leave nothing leased.
func TestLimitWithManyHostsQueued(t *testing.T) {
	site := &smallSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxPages = 20
	ctx := context.Background()
	e, db := seededEngine(t, cfg)
	defer db.Close()
	// 2,000 more hosts on loopback addresses where nothing listens: the
	// scheduler activates them 512 at a time, one batch per tick, so
	// activation is still under way when the limit is reached.
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	var urls []store.NewURL
	for i := 0; i < 2000; i++ {
		origin := fmt.Sprintf("http://127.3.%d.%d:%s", i/250, 1+i%250, port)
		urls = append(urls, store.NewURL{URL: origin + "/p/0", Origin: origin, Source: "seed", State: store.StateQueued})
	}
	if _, err := db.Add(ctx, urls); err != nil {
		t.Fatal(err)
	}
	out, err := e.Run(ctx, time.Second)
	if err != nil || out != OutcomeLimit {
		t.Fatalf("Run = %s, %v; want %s", out, err, OutcomeLimit)
	}
	leased := queryMap(t, cfg.Database, `SELECT 'leased', count(*) FROM frontier WHERE state = 'leased'`)
	if leased["leased"] != "0" {
		t.Errorf("%s URLs left leased after the run, want 0", leased["leased"])
	}
	// Hosts claim URLs only once their robots.txt is read, so the hosts
	// that refuse connections never had one claimed.
	dead := queryMap(t, cfg.Database, `SELECT 'claims', sum(claims) FROM frontier WHERE url LIKE 'http://127.3.%'`)
	if dead["claims"] != "0" {
		t.Errorf("URLs of unreachable hosts claimed %s times, want 0", dead["claims"])
	}
}

// TestRunEndsWithoutTick checks that a run ends when its work is done, not
// at the dispatch loop's next tick: the loop gets a tick channel that never
// fires, so Run returns only if the events of the crawl themselves (the last
// fetch done, the last commit, the frontier found empty) end it. Should the
// run hang, the test fails after a generous bound and then lets ticks through
// so that Run returns and nothing outlives the test.
func TestRunEndsWithoutTick(t *testing.T) {
	tests := []struct {
		name     string
		maxPages int
		want     Outcome
	}{
		{"frontier empty", 0, OutcomeFinished},
		{"max_pages", 25, OutcomeLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 40, Fast: true})
			if err != nil {
				t.Fatal(err)
			}
			defer site.Close()
			cfg := testConfig(t, site.Seeds()[0])
			cfg.Seeds = site.Seeds()
			cfg.SitemapDiscovery = false
			cfg.Limits.MaxPages = tt.maxPages
			e, db := seededEngine(t, cfg)
			defer db.Close()
			ticks := make(chan time.Time)
			e.ticks = ticks
			type result struct {
				out Outcome
				err error
			}
			res := make(chan result, 1)
			go func() {
				out, err := e.Run(context.Background(), time.Second)
				res <- result{out, err}
			}()
			var r result
			select {
			case r = <-res:
			case <-time.After(30 * time.Second):
				t.Errorf("Run has not returned after 30 s without a tick: the end of the run waits for the tick")
				for r.out == "" {
					select {
					case r = <-res:
					case ticks <- time.Now():
					}
				}
			}
			if r.err != nil || r.out != tt.want {
				t.Fatalf("Run = %s, %v; want %s", r.out, r.err, tt.want)
			}
			got := queryMap(t, cfg.Database, `SELECT 'n', count(*) FROM pages WHERE status = 200`)
			want := len(site.Expected())
			if tt.maxPages > 0 {
				want = tt.maxPages
			}
			if got["n"] != fmt.Sprint(want) {
				t.Errorf("%s pages stored with status 200, want %d", got["n"], want)
			}
			left := queryMap(t, cfg.Database, `SELECT state, count(*) FROM frontier WHERE state IN ('queued', 'leased') GROUP BY state`)
			if tt.maxPages == 0 && len(left) > 0 {
				t.Errorf("frontier left %v, want nothing queued or leased", left)
			}
			if left["leased"] != "" {
				t.Errorf("%s URLs left leased", left["leased"])
			}
		})
	}
}
