package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

var (
	benchHosts   = flag.Int("bench.hosts", 8, "BenchmarkCrawl: test site hosts")
	benchPages   = flag.Int("bench.pages", 500, "BenchmarkCrawl: pages per host")
	benchWorkers = flag.Int("bench.workers", 48, "BenchmarkCrawl: crawler workers")
	benchBodies  = flag.String("bench.bodies", "zstd", "BenchmarkCrawl: store.bodies (zstd, s2, gzip, identity or none)")
	benchQueue   = flag.Int("bench.hostqueue", 0, "BenchmarkCrawl: politeness.host_queue (0 = the default)")
	benchIndex   = flag.Bool("bench.linkindex", false, "BenchmarkCrawl: store.inbound_link_index")
	benchText    = flag.Bool("bench.maintext", true, "BenchmarkCrawl: parse.main_text")
	benchHeap    = flag.String("bench.heapprofile", "", "BenchmarkCrawl: write a heap profile here when half the pages are stored")
)

// BenchmarkCrawl runs the crawl engine in-process against the fast test
// site with the throughput measurement's settings, for profiling:
//
//	go test -run '^$' -bench Crawl -benchtime 1x -cpuprofile cpu.out -memprofile mem.out ./bench -args -bench.pages 2500
//	go tool pprof -tagfocus side=crawler -top bench.test cpu.out
//
// The site runs in the same process; its goroutines carry the profiler
// label side=site and the crawler's side=crawler, so -tagfocus and
// -tagignore separate the two.
func BenchmarkCrawl(b *testing.B) {
	var site *testsite.Site
	var err error
	pprof.Do(context.Background(), pprof.Labels("side", "site"), func(context.Context) {
		site, err = testsite.Start(testsite.Options{Hosts: *benchHosts, PagesPerHost: *benchPages, Fast: true, NoByPath: true})
	})
	if err != nil {
		b.Fatal(err)
	}
	defer site.Close()
	want := len(site.Expected())
	b.ResetTimer()
	var pages int
	var spent time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := crawl.Defaults()
		cfg.Database = filepath.Join(b.TempDir(), "crawl.db")
		cfg.Seeds = site.Seeds()
		cfg.Workers = *benchWorkers
		cfg.Limits.MaxDepth = 1000
		cfg.Politeness.Rate = 0
		cfg.Politeness.MaxInFlight = 64
		cfg.Politeness.LatencyFactor = 0
		cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
		cfg.Store.Bodies = *benchBodies
		cfg.Store.InboundLinkIndex = *benchIndex
		cfg.Parse.MainText = *benchText
		if *benchQueue > 0 {
			cfg.Politeness.HostQueue = *benchQueue
		}
		b.StartTimer()
		start := time.Now()
		n := crawlInProcess(b, &cfg, heapAt(b, *benchHeap, want/2))
		spent += time.Since(start)
		if n != want {
			b.Fatalf("crawl %d stored %d pages with status 200, want %d", i, n, want)
		}
		pages += n
	}
	b.ReportMetric(float64(pages)/spent.Seconds(), "pages/s")
}

// heapAt returns a progress hook that writes a heap profile to path once
// pages are stored, or nil when path is empty. The live heap in the middle of
// a crawl is what the peak RSS is made of; at the end it is gone.
func heapAt(tb testing.TB, path string, pages int) func(crawl.Stats) {
	if path == "" {
		return nil
	}
	written := false
	return func(s crawl.Stats) {
		if written || s.Pages < int64(pages) {
			return
		}
		written = true
		f, err := os.Create(path)
		if err != nil {
			tb.Error(err)
			return
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			tb.Error(err)
		}
	}
}

// crawlInProcess runs one crawl to its end and returns the pages stored with
// status 200 (the crawler also records other responses, such as a missing
// /sitemap.xml).
func crawlInProcess(tb testing.TB, cfg *crawl.Config, progress func(crawl.Stats)) int {
	tb.Helper()
	ctx := context.Background()
	var n int
	pprof.Do(ctx, pprof.Labels("side", "crawler"), func(ctx context.Context) {
		db, err := sqlite.Open(ctx, cfg.Database)
		if err != nil {
			tb.Fatal(err)
		}
		defer db.Close()
		eng, err := crawl.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			tb.Fatal(err)
		}
		eng.OnProgress = progress
		if err := eng.Seed(ctx, nil); err != nil {
			tb.Fatal(err)
		}
		if _, err := eng.Run(ctx, 5*time.Second); err != nil {
			tb.Fatal(err)
		}
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM pages WHERE status = 200`).Scan(&n); err != nil {
			tb.Fatal(err)
		}
	})
	return n
}

func TestStatusField(t *testing.T) {
	status := "Name:\tcrawler\nVmPeak:\t  200000 kB\nVmHWM:\t   123456 kB\nVmRSS:\t    99999 kB\n"
	tests := []struct {
		key  string
		want int
		ok   bool
	}{
		{"VmHWM", 123456, true},
		{"VmRSS", 99999, true},
		{"VmSwap", 0, false},
		{"Name", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := statusField(status, tt.key)
			if got != tt.want || ok != tt.ok {
				t.Errorf("statusField(%q) = %d, %v, want %d, %v", tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{100_000, "100k"}, {1_000_000, "1M"}, {10_000_000, "10M"}, {1_500_000, "1500k"}, {1234, "1234"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := count(tt.n); got != tt.want {
				t.Errorf("count(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	writeTable(&buf, []string{"a", "bb"}, [][]string{{"µs", "1"}, {"long", ""}})
	want := "| a    | bb |\n| ---- | -- |\n| µs   | 1  |\n| long |    |\n"
	if got := buf.String(); got != want {
		t.Errorf("writeTable:\n%s\nwant:\n%s", got, want)
	}
}

// TestCrawlInProcess checks the profiling benchmark's crawl on a small site:
// every page of the site is stored.
func TestCrawlInProcess(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 60, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg := crawl.Defaults()
	cfg.Database = filepath.Join(t.TempDir(), "crawl.db")
	cfg.Seeds = site.Seeds()
	cfg.Workers = 8
	cfg.Limits.MaxDepth = 1000
	cfg.Politeness.Rate = 0
	cfg.Politeness.MaxInFlight = 8
	cfg.Politeness.LatencyFactor = 0
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	if got, want := crawlInProcess(t, &cfg, nil), len(site.Expected()); got != want {
		t.Errorf("crawl stored %d pages with status 200, want %d", got, want)
	}
	for h, st := range site.Stats() {
		for path, n := range st.ByPath {
			if n > 1 && !strings.HasSuffix(path, "robots.txt") {
				t.Errorf("%s%s requested %d times", h, path, n)
			}
		}
	}
}
