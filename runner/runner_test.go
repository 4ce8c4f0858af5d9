package runner

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// siteCrawl starts the local test site and returns it with a config for
// crawling it fast and that config's database, open, under t.TempDir().
func siteCrawl(t *testing.T, o testsite.Options) (*testsite.Site, *crawl.Config, *sqlite.DB) {
	t.Helper()
	site, err := testsite.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := testConfig(t, site.Seeds())
	db, err := sqlite.Open(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return site, cfg, db
}

// testConfig is a config for crawling the local test site fast, with its
// database under t.TempDir().
func testConfig(t *testing.T, seeds []string) *crawl.Config {
	t.Helper()
	cfg := crawl.Defaults()
	cfg.Database = filepath.Join(t.TempDir(), "crawl.db")
	cfg.Seeds = seeds
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	cfg.Politeness.Rate = 0
	cfg.Politeness.MaxInFlight = 4
	cfg.Fetch.MaxRetries = 1
	cfg.Fetch.RetryBase = 10 * time.Millisecond
	cfg.Politeness.BackoffBase = 10 * time.Millisecond
	return &cfg
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestOpenDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.db")
	if _, err := OpenReader(ctx, path, store.DefaultCrawlName, store.ReaderOptions{}); err == nil {
		t.Error("opening a database that does not exist read-only succeeded")
	}
	db, err := OpenDatabase(ctx, path, store.DefaultCrawlName)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if other, err := OpenDatabase(ctx, path, store.DefaultCrawlName); !errors.Is(err, store.ErrLocked) {
		if other != nil {
			other.Close()
		}
		t.Errorf("a second writer: error %v, want store.ErrLocked", err)
	}
	r, err := OpenReader(ctx, path, store.DefaultCrawlName, store.ReaderOptions{})
	if err != nil {
		t.Fatalf("a reader beside the writer: %v", err)
	}
	defer r.Close()
	rows, err := r.UserQuery(ctx, `DELETE FROM frontier`, 0)
	if err == nil {
		rows.Close()
		t.Error("the read-only database accepted a write")
	}
}

func TestRateWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := rateWindow{span: 10 * time.Second}
	if r := w.rate(); r != 0 {
		t.Errorf("rate of an empty window = %v, want 0", r)
	}
	// 10 pages/s for 20 s, then 0 for 5 s: the window sees the last 10 s.
	pages := int64(0)
	for s := 0; s <= 20; s++ {
		w.add(t0.Add(time.Duration(s)*time.Second), pages)
		pages += 10
	}
	if r := w.rate(); r != 10 {
		t.Errorf("rate after 20 s at 10/s = %v, want 10", r)
	}
	pages -= 10
	for s := 21; s <= 25; s++ {
		w.add(t0.Add(time.Duration(s)*time.Second), pages)
	}
	if r := w.rate(); r != 5 {
		t.Errorf("rate after 5 idle seconds = %v, want 5 (50 pages in the last 10 s)", r)
	}
	if len(w.samples) > 12 {
		t.Errorf("window holds %d samples, want about 11", len(w.samples))
	}
}

// TestMonitor feeds the monitor engine reports at synthetic times over a
// real database: it measures pages per second over the window and since
// the start, reads the frontier's totals, and warns once nothing has
// completed for the stall threshold while URLs wait.
func TestMonitor(t *testing.T) {
	ctx := context.Background()
	db, err := OpenDatabase(ctx, filepath.Join(t.TempDir(), "crawl.db"), store.DefaultCrawlName)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var urls []store.NewURL
	for _, p := range []string{"/a", "/b", "/c"} {
		urls = append(urls, store.NewURL{URL: "http://example.com" + p, Origin: "http://example.com", Source: "seed",
			State: store.StateQueued})
	}
	if _, err := db.Add(ctx, urls); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	m := &monitor{db: db, log: slog.New(slog.NewTextHandler(&logs, nil)), rates: rateWindow{span: RateWindow},
		stall: stallWatch{after: time.Minute}, pagesAtStart: 7, totalTimeout: time.Minute}
	t0 := time.Now()
	hosts := crawl.HostsSnapshot{Active: 1, Throttled: 1}
	var p Progress
	for i := 0; i <= 20; i++ {
		p = m.observe(ctx, crawl.Stats{Started: t0, Pages: int64(i * 10), Hosts: hosts}, t0.Add(time.Duration(i)*time.Second))
	}
	if p.PagesPerSecond != 10 || p.AvgPagesPerSecond != 10 || p.Elapsed != 20*time.Second || p.PagesAtStart != 7 {
		t.Errorf("after 20 s at 10 pages/s: %v pages/s, %v on average, elapsed %v, %d pages at start; want 10, 10, 20s, 7",
			p.PagesPerSecond, p.AvgPagesPerSecond, p.Elapsed, p.PagesAtStart)
	}
	if !p.FrontierKnown || p.Frontier.Queued != 3 || p.Frontier.Leased != 0 {
		t.Errorf("frontier %+v (known %v), want 3 queued", p.Frontier, p.FrontierKnown)
	}
	// Nothing completes for a minute: one warning saying why.
	for i := 21; i <= 90; i++ {
		p = m.observe(ctx, crawl.Stats{Started: t0, Pages: 200, Hosts: hosts}, t0.Add(time.Duration(i)*time.Second))
	}
	if p.PagesPerSecond != 0 {
		t.Errorf("pages/s after 70 idle seconds = %v, want 0", p.PagesPerSecond)
	}
	out := logs.String()
	if n := strings.Count(out, "crawl stalled"); n != 1 ||
		!strings.Contains(out, `msg="crawl stalled: no URL completed for 1m0s" why="every active host (1) waits for its rate limit or Crawl-delay"`) {
		t.Errorf("%d stall warnings, want one naming the rate limit:\n%s", n, out)
	}
	if l := p.Live(); l.PagesPerSecond != 0 || l.AvgPagesPerSecond != 2.2 || l.Pages != 200 || l.ElapsedSeconds != 90 {
		t.Errorf("Live() = %+v, want 200 pages in 90 s", l)
	}
}

// TestCrawl runs a crawl through Start and Crawl and checks what it
// returns and records.
func TestCrawl(t *testing.T) {
	ctx := context.Background()
	_, cfg, db := siteCrawl(t, testsite.Options{Hosts: 1, PagesPerHost: 30, Seed: 4})
	// The recorded text keeps no secret: proxy credentials and header
	// values are redacted, comments left out.
	text := "seeds: [x] # login: alice\nfetch:\n  proxy: ['http://alice:s3cret@proxy.example:3128']\n" +
		"  headers: {Authorization: Bearer t0ken}\n"
	r, err := Start(ctx, cfg, db, Options{ConfigText: text})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Crawl(ctx, time.Second)
	if err != nil || res.Outcome != crawl.OutcomeFinished {
		t.Fatalf("Crawl = %s, %v", res.Outcome, err)
	}
	var pages, errs int
	var outcome, config string
	db.SQL().QueryRow(`SELECT count(*), (SELECT count(*) FROM frontier WHERE state = 'failed') FROM pages`).Scan(&pages, &errs)
	db.SQL().QueryRow(`SELECT outcome, config FROM runs`).Scan(&outcome, &config)
	if res.TotalsErr != nil || res.Totals.Pages != pages || res.Totals.Errors != errs || res.Totals.Queued != 0 || res.Totals.Leased != 0 {
		t.Errorf("totals %+v (%v), want %d pages, %d errors, nothing queued or leased", res.Totals, res.TotalsErr, pages, errs)
	}
	if res.Stats.Pages != int64(pages) || res.PagesAtStart != 0 || res.Elapsed <= 0 || res.PagesPerSecond != perSecond(res.Stats.Pages, res.Elapsed) {
		t.Errorf("result %+v, want %d pages over the run", res, pages)
	}
	wantConfig := "seeds: [x]\nfetch:\n  proxy: ['http://REDACTED@proxy.example:3128']\n  headers: {Authorization: REDACTED}\n"
	if outcome != "finished" || config != wantConfig {
		t.Errorf("runs row: outcome %q, config %q", outcome, config)
	}
	if p := r.Progress(); p.Stats.Pages != res.Stats.Pages || !p.FrontierKnown || p.Frontier != res.Totals {
		t.Errorf("final progress %+v, want the result's counts", p)
	}

	// A second run of the finished crawl resumes it: nothing to do.
	r2, err := Start(ctx, cfg, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := r2.Crawl(ctx, time.Second)
	if err != nil || res2.PagesAtStart != pages || res2.Stats.Pages != 0 {
		t.Errorf("second run: %+v, %v; want no new pages on top of %d", res2, err, pages)
	}
}
