package crawl

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/store/sqlite/sqlitetest"
	"github.com/crawler-dev/crawler/testsite"
)

// recrawlConfig is testConfig over the site's seeds with revisits on: a
// first interval of an hour that doubles while a URL is unchanged and
// halves when it changes, between 15 minutes and 8 hours.
func recrawlConfig(t *testing.T, site *testsite.Site) *Config {
	cfg := testConfig(t, site.Seeds()[0])
	cfg.Seeds = site.Seeds()
	cfg.Recrawl = Recrawl{Enabled: true, Interval: time.Hour, MinInterval: 15 * time.Minute, MaxInterval: 8 * time.Hour,
		Adaptive: true, Grow: 1, Shrink: 0.5}
	return cfg
}

// siteVisit is one request of the site's log, by URL.
type siteVisit struct {
	testsite.Request
	url string
}

// visitsAt returns the site's logged page requests (not robots.txt or
// sitemaps) made at generation g, the last one of each URL (a retry
// follows a failed attempt).
func visitsAt(site *testsite.Site, g int) []siteVisit {
	var out []siteVisit
	at := map[string]int{}
	for _, h := range site.Hosts() {
		for _, r := range site.Requests(h) {
			if r.Generation != g || r.Target == "/robots.txt" || strings.HasPrefix(r.Target, "/sitemap") {
				continue
			}
			u := "http://" + h + r.Target
			if i, ok := at[u]; ok {
				out[i] = siteVisit{r, u}
				continue
			}
			at[u] = len(out)
			out = append(out, siteVisit{r, u})
		}
	}
	return out
}

// TestRevisitsOfAChangingSite crawls the changing test site, then revisits
// it over five generations with an hour passing between them, judged by
// the site's own request log and ground truth: every page fetched before
// is asked for with a conditional request; an unchanged one is answered
// 304, and its page stays; a changed one is stored anew; a removed one
// ends failed with its 404 or 410; new pages are found; URLs that never
// change are revisited after 1, 2 and 4 hours (intervals adapt); robots.txt
// still holds. A version is recorded for a URL's first page and for each
// revisit that finds it changed, and none else; the changes the store
// lists are the site's.
func TestRevisitsOfAChangingSite(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 60, Seed: 21,
		Changes: testsite.ChangeRates{Text: 0.1, Price: 0.1, Remove: 0.05, New: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg := recrawlConfig(t, site)
	const cycles = 5
	last := map[string]int{}     // URL -> generation it was last fetched at
	seen := map[string][]int{}   // URL -> generations it was requested at
	full := map[string]int64{}   // URL -> bytes of its last 200 answer
	versions := map[string]int{} // URL -> versions it must have
	var conditional, notModified, sent, changes int
	var saved int64
	for g := 0; g <= cycles; g++ {
		if g > 0 {
			if _, err := site.Advance(); err != nil {
				t.Fatal(err)
			}
			sqlitetest.PassTime(t, cfg.Database, time.Hour)
		}
		started := time.Now()
		if out := crawlOnce(t, cfg); out != OutcomeFinished {
			t.Fatalf("generation %d: outcome %s", g, out)
		}
		truth, err := site.Truth(g)
		if err != nil {
			t.Fatal(err)
		}
		hashes := queryMap(t, cfg.Database, `SELECT url, coalesce(content_hash, '') || ' ' || status FROM pages`)
		states := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(status, 0) FROM frontier`)
		listed := changesSince(t, cfg.Database, started)
		for _, v := range visitsAt(site, g) {
			u := v.url
			if strings.Contains(u, "/private/") {
				t.Errorf("generation %d: %s requested, robots.txt disallows it", g, u)
			}
			seen[u] = append(seen[u], g)
			sent++
			before, fetched := last[u]
			tr, known := truth[u]
			if !fetched {
				versions[u] = 1
			} else if changed, err := site.Changed(before, g); err != nil {
				t.Fatal(err)
			} else if k, ok := changed[u]; ok {
				versions[u]++
				changes++
				want := store.ChangeChanged
				switch {
				case k&testsite.ChangeRemoved != 0:
					want = store.ChangeDisappeared
				case k&testsite.ChangeNew != 0:
					want = store.ChangeAppeared
				}
				if listed[u] != want {
					t.Errorf("generation %d: %s changed (%v), listed as %q, want %q", g, u, k, listed[u], want)
				}
				delete(listed, u)
			}
			switch {
			case !fetched || !known:
				if v.Conditional {
					t.Errorf("generation %d: first request of %s is conditional", g, u)
				}
			case v.Conditional:
				conditional++
				changed, err := site.Changed(before, g)
				if err != nil {
					t.Fatal(err)
				}
				_, isChanged := changed[u]
				switch {
				case !isChanged && v.Status != http.StatusNotModified:
					t.Errorf("generation %d: unchanged %s answered %d, want 304", g, u, v.Status)
				case isChanged && v.Status == http.StatusNotModified:
					t.Errorf("generation %d: changed %s (%v) answered 304", g, u, changed[u])
				case v.Status == http.StatusNotModified:
					notModified++
					saved += full[u]
				}
			case tr.ETag != "":
				t.Errorf("generation %d: %s revisited without a conditional request", g, u)
			}
			last[u] = g
			if v.Status == 200 {
				full[u] = v.Bytes
			}
			if !known {
				continue
			}
			switch want := fmt.Sprintf("%s %d", tr.Hash, tr.Status); {
			case tr.Status == 200 && hashes[u] != want:
				t.Errorf("generation %d: page %s = %q, want %q", g, u, hashes[u], want)
			case tr.Status == 404 || tr.Status == 410:
				if states[u] != fmt.Sprintf("failed %d", tr.Status) {
					t.Errorf("generation %d: removed %s is %q, want failed %d", g, u, states[u], tr.Status)
				}
			}
		}
		if g > 0 {
			for u, kind := range listed {
				if strings.Contains(u, "/sitemap") {
					continue
				}
				if kind != store.ChangeAppeared || last[u] != g || versions[u] != 1 {
					t.Errorf("generation %d: %s listed as %s, and the site did not change it", g, u, kind)
				}
			}
		}
		// Every page live at this generation was found.
		for u, st := range site.ExpectedAt(g) {
			if st == 200 && hashes[u] == "" {
				t.Errorf("generation %d: %s never fetched", g, u)
			}
		}
	}
	if conditional == 0 || notModified == 0 {
		t.Fatalf("%d conditional requests, %d answered 304: want both", conditional, notModified)
	}
	recorded := queryMap(t, cfg.Database, `SELECT url, count(*) FROM versions WHERE url NOT LIKE '%/sitemap%' GROUP BY url`)
	total := 0
	for u, n := range versions {
		if recorded[u] != fmt.Sprint(n) {
			t.Errorf("%s: %s versions, want %d", u, recorded[u], n)
		}
		total += n
	}
	if len(recorded) != len(versions) {
		t.Errorf("versions of %d URLs, want %d", len(recorded), len(versions))
	}

	// URLs that never changed were revisited after 1, 2 and 4 hours.
	changed, err := site.Changed(0, cycles)
	if err != nil {
		t.Fatal(err)
	}
	truth0, err := site.Truth(0)
	if err != nil {
		t.Fatal(err)
	}
	intervals := queryMap(t, cfg.Database, `SELECT url, revisit_interval_ms FROM frontier WHERE revisit_interval_ms IS NOT NULL`)
	steady := 0
	for u, tr := range truth0 {
		if _, ok := changed[u]; ok || tr.Status != 200 || len(seen[u]) == 0 {
			continue
		}
		steady++
		if got := fmt.Sprint(seen[u]); got != "[0 1 3]" {
			t.Errorf("unchanged %s requested at generations %s, want [0 1 3]", u, got)
		}
		if intervals[u] != fmt.Sprint((4 * time.Hour).Milliseconds()) {
			t.Errorf("unchanged %s: interval %s ms, want 4h", u, intervals[u])
		}
	}
	if steady == 0 {
		t.Fatal("no URL stayed unchanged")
	}
	perGen := make([]int, cycles+1)
	for _, gs := range seen {
		for _, g := range gs {
			perGen[g]++
		}
	}
	t.Logf("page requests per generation %v; %d conditional requests, %d (%.0f%%) answered 304, %d bytes not sent again; "+
		"%d versions for %d URLs, %d of them for the %d changes revisits found", perGen, conditional, notModified,
		100*float64(notModified)/float64(conditional), saved, total, len(versions), total-len(versions), changes)
}

// TestRevisitNotDueNotFetched: a run over a crawled database whose URLs
// are not due yet sends no request and ends at once, finished; once due,
// the next run revisits them.
func TestRevisitNotDueNotFetched(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{} // guarded by mu
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			w.Header().Set("ETag", `"home"`)
			if r.Header.Get("If-None-Match") == `"home"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprint(w, `<html><a href="/a">a</a></html>`)
		default:
			fmt.Fprint(w, `<html>a</html>`)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Recrawl.Enabled = true
	count := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(hits)
	}
	crawlOnce(t, cfg)
	if got := count(); got["/"] != 1 || got["/a"] != 1 {
		t.Fatalf("first crawl: %v", got)
	}
	crawlOnce(t, cfg)
	if got := count(); got["/"] != 1 || got["/a"] != 1 || got["/robots.txt"] != 1 {
		t.Errorf("run before anything is due: requests %v, want none", got)
	}
	sqlitetest.PassTime(t, cfg.Database, 24*time.Hour)
	crawlOnce(t, cfg)
	if got := count(); got["/"] != 2 || got["/a"] != 2 {
		t.Errorf("run once due: requests %v, want / and /a again", got)
	}
	states := queryMap(t, cfg.Database, `SELECT url, state || ' ' || status || ' ' || revisits || ' ' || unchanged || ' ' ||
		not_modified || ' ' || revisit_interval_ms FROM frontier`)
	want := map[string]string{
		srv.URL + "/":  fmt.Sprintf("done 304 1 1 1 %d", (36 * time.Hour).Milliseconds()),
		srv.URL + "/a": fmt.Sprintf("done 200 1 1 0 %d", (36 * time.Hour).Milliseconds()),
	}
	for u, w := range want {
		if states[u] != w {
			t.Errorf("%s: %q, want %q (state, status, revisits, unchanged, 304s, interval)", u, states[u], w)
		}
	}
}

// TestRevisitsBeyondMaxPages: limits.max_pages counts the pages stored,
// not revisits. Once a crawl holds max_pages pages, a run revisits them
// when they are due, stores no new page, and ends with the limit.
func TestRevisitsBeyondMaxPages(t *testing.T) {
	site := &smallSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxPages = 5
	cfg.Recrawl.Enabled = true
	if out := crawlOnce(t, cfg); out != OutcomeLimit {
		t.Fatalf("first run: %s, want limit", out)
	}
	first := queryMap(t, cfg.Database, `SELECT url, fetched_at FROM pages`)
	if len(first) != 5 {
		t.Fatalf("%d pages after the first run, want 5", len(first))
	}
	site.mu.Lock()
	before := maps.Clone(site.hits)
	site.mu.Unlock()
	sqlitetest.PassTime(t, cfg.Database, 48*time.Hour)
	if out := crawlOnce(t, cfg); out != OutcomeLimit {
		t.Errorf("second run: %s, want limit", out)
	}
	again := queryMap(t, cfg.Database, `SELECT url, fetched_at FROM pages`)
	if len(again) != 5 {
		t.Errorf("%d pages after the revisits, want still 5", len(again))
	}
	site.mu.Lock()
	defer site.mu.Unlock()
	for u := range first {
		path := strings.TrimPrefix(u, srv.URL)
		if site.hits[path] != before[path]+1 {
			t.Errorf("%s requested %d times in the second run, want once", path, site.hits[path]-before[path])
		}
		if again[u] == first[u] {
			t.Errorf("%s: fetch time unchanged by its revisit", u)
		}
	}
	for path, n := range site.hits {
		if n != before[path] && first[srv.URL+path] == "" && path != "/robots.txt" {
			t.Errorf("%s, not stored before, requested in the second run", path)
		}
	}
}

func TestRecrawlConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"zero interval", "recrawl:\n  interval: 0s\n", "cfg.yaml:2: recrawl.interval: must be a positive duration"},
		{"min above max", "recrawl:\n  min_interval: 48h\n  max_interval: 24h\n",
			"cfg.yaml:1: recrawl: min_interval 48h0m0s is longer than max_interval 24h0m0s"},
		{"interval out of bounds", "recrawl:\n  interval: 30m\n", "recrawl: interval 30m0s is not between min_interval 1h0m0s and max_interval 720h0m0s"},
		{"negative grow", "recrawl:\n  grow: -1\n", "cfg.yaml:2: recrawl.grow: must be a number from 0 to 10"},
		{"NaN grow", "recrawl:\n  grow: .nan\n", "recrawl.grow: must be a number from 0 to 10"},
		{"shrink 1", "recrawl:\n  shrink: 1\n", "cfg.yaml:2: recrawl.shrink: must be a number from 0 to below 1"},
		{"bad pattern", "recrawl:\n  patterns:\n    - {match: 're:(', interval: 1h}\n", "cfg.yaml:3: recrawl.patterns[0].match: compile regexp"},
		{"pattern out of bounds", "recrawl:\n  patterns:\n    - {match: '*/p/*', interval: 10m}\n",
			"cfg.yaml:3: recrawl.patterns[0]: interval 10m0s is not between min_interval 1h0m0s"},
		{"bad host", "recrawl:\n  hosts:\n    'a b': {interval: 2h}\n", `recrawl.hosts.a b: "a b" is not a host name`},
		{"host min above its max", "recrawl:\n  hosts:\n    a.example: {min_interval: 2h, max_interval: 90m}\n",
			"recrawl.hosts.a.example: min_interval 2h0m0s is longer than max_interval 1h30m0s"},
		{"unknown key", "recrawl:\n  intervall: 2h\n", `cfg.yaml:2: unknown key "intervall" (did you mean "interval"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig(%q) error = %v, want it to contain %q", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestRevisitIntervals: a URL's intervals come from the first pattern that
// matches it, else its host, else the recrawl group; adaptive intervals
// grow while a URL is unchanged and shrink when it changes, within bounds.
func TestRevisitIntervals(t *testing.T) {
	cfg, err := ParseConfig("cfg.yaml", []byte(`recrawl:
  interval: 24h
  min_interval: 1h
  max_interval: 240h
  grow: 1
  shrink: 0.5
  hosts: {"shop.example": {interval: 12h}, "shop.example:8080": {interval: 6h}}
  patterns:
    - {match: "*/category/*", interval: 1h, min_interval: 10m, max_interval: 4h}
    - {match: "re:/archive/\\d+$", interval: 720h, max_interval: 2160h}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRevisits(cfg.Recrawl)
	if err != nil {
		t.Fatal(err)
	}
	prev := func(iv time.Duration) *store.Fetched { return &store.Fetched{Status: 200, Interval: iv} }
	h := time.Hour
	tests := []struct {
		url     string
		prev    *store.Fetched
		changed bool
		want    time.Duration
	}{
		{"http://a.example/x", nil, true, 24 * h},
		{"http://a.example/x", prev(24 * h), false, 48 * h},
		{"http://a.example/x", prev(200 * h), false, 240 * h},
		{"http://a.example/x", prev(24 * h), true, 12 * h},
		{"http://a.example/x", prev(90 * time.Minute), true, h},
		{"http://a.example/x", &store.Fetched{Status: 200}, false, 24 * h}, // fetched before recrawl was on
		{"http://shop.example/x", nil, true, 12 * h},
		{"http://shop.example:8080/x", nil, true, 6 * h},
		{"http://shop.example:8080/category/a", nil, true, h},
		{"http://shop.example/category/a", prev(h), true, 30 * time.Minute},
		{"http://shop.example/category/a", prev(3 * h), false, 4 * h},
		{"http://a.example/archive/12", nil, true, 720 * h},
		{"http://a.example/archive/12", prev(720 * h), false, 1440 * h},
		{"http://a.example/archive/12/x", nil, true, 24 * h},
	}
	for _, tt := range tests {
		if got := r.interval(tt.url, tt.prev, tt.changed); got != tt.want {
			t.Errorf("interval(%s, %+v, changed %v) = %v, want %v", tt.url, tt.prev, tt.changed, got, tt.want)
		}
	}
	cfg.Recrawl.Adaptive = false
	if r, _ = newRevisits(cfg.Recrawl); r.interval("http://a.example/x", prev(24*h), false) != 24*h {
		t.Errorf("without adaptive intervals, an unchanged URL's interval moved")
	}
}

// TestRecrawlTurnedOn: a crawl made with recrawl off, run again with it
// on, schedules what it fetched a day after its fetch, and revisits it
// once due.
func TestRecrawlTurnedOn(t *testing.T) {
	site := &smallSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxDepth = 3
	crawlOnce(t, cfg)
	cfg.Recrawl.Enabled = true
	site.mu.Lock()
	before := maps.Clone(site.hits)
	site.mu.Unlock()
	crawlOnce(t, cfg)
	site.mu.Lock()
	if !maps.Equal(site.hits, before) {
		t.Errorf("requests of the run that turned recrawl on: %v, want none (nothing due yet)", site.hits)
	}
	site.mu.Unlock()
	sqlitetest.PassTime(t, cfg.Database, 24*time.Hour)
	crawlOnce(t, cfg)
	site.mu.Lock()
	defer site.mu.Unlock()
	for _, p := range []string{"/", "/p/0", "/p/1", "/missing"} {
		if site.hits[p] != before[p]+1 {
			t.Errorf("%s requested %d times once due, want once", p, site.hits[p]-before[p])
		}
	}
}

// countingStore counts the store calls through which a run looks for work.
type countingStore struct {
	Store
	mu    sync.Mutex
	calls map[string]int // guarded by mu
}

func (c *countingStore) count(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingStore) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *countingStore) Pending(ctx context.Context) (int, time.Time, error) {
	c.count("Pending")
	return c.Store.Pending(ctx)
}

func (c *countingStore) NextRevisit(ctx context.Context, now time.Time) (int, time.Time, error) {
	c.count("NextRevisit")
	return c.Store.NextRevisit(ctx, now)
}

func (c *countingStore) LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error) {
	c.count("LeaseHosts")
	return c.Store.LeaseHosts(ctx, q, ttl)
}

// TestContinuous: a continuous run revisits its URL as it comes due and
// sleeps between: it asks the store for work only around each revisit,
// not on every tick, and a stop ends it, interrupted, at once.
func TestContinuous(t *testing.T) {
	const cycles = 3
	homes := make(chan struct{}, cycles+2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r) // robots.txt, the sitemap
			return
		}
		fmt.Fprint(w, `<html>home</html>`)
		select {
		case homes <- struct{}{}:
		default:
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Recrawl = Recrawl{Enabled: true, Continuous: true, Interval: 2 * time.Second,
		MinInterval: 2 * time.Second, MaxInterval: 2 * time.Second}
	before := goleak.IgnoreCurrent()
	e, db := seededEngine(t, cfg)
	cs := &countingStore{Store: db, calls: map[string]int{}}
	e.db = cs
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := e.Run(ctx, time.Second)
		done <- result{out, err}
	}()
	deadline := time.After(time.Minute)
	for i := range cycles {
		select {
		case <-homes:
		case r := <-done:
			t.Fatalf("the run ended after %d fetches of /: %s, %v", i, r.out, r.err)
		case <-deadline:
			t.Fatalf("/ fetched %d times in a minute, want %d", i, cycles)
		}
	}
	cancel()
	select {
	case r := <-done:
		if r.out != OutcomeInterrupted || !errors.Is(r.err, ErrInterrupted) {
			t.Errorf("Run = %s, %v; want interrupted", r.out, r.err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the run did not stop within a minute of the stop")
	}
	// Each revisit costs a few queries (the check that finds nothing more
	// to do, the activation that finds the host due again); a loop that
	// polled on its 250 ms ticks would make a few each tick, 8 per sleep.
	if n := cs.total(); n > 6*cycles {
		t.Errorf("%d store queries for work over %d revisits (%v), want at most %d", n, cycles, cs.calls, 6*cycles)
	}
	t.Logf("store queries for work over %d revisits: %v", cycles, cs.calls)
	db.Close()
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left after the run: %v", err)
	}
}

// changesSince returns the changes the store lists for the versions
// fetched since a time: URL -> kind.
func changesSince(t *testing.T, path string, since time.Time) map[string]string {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	for c, err := range db.Changes(context.Background(), store.ChangesOptions{Since: since}) {
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := out[c.URL]; dup {
			t.Errorf("%s listed twice", c.URL)
		}
		out[c.URL] = c.Kind
	}
	return out
}
