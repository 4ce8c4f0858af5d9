// Command bench is the project's benchmark suite ("make bench"). It runs
// every measurement as separate processes on loopback, each bounded in time,
// and prints a table with each figure, its target and the command that
// reproduces it:
//
//   - throughput: bin/crawler crawls the fast test site (bench/site, a
//     separate process) with politeness off and bodies stored compressed;
//     pages/s, CPU seconds per 1,000 pages and peak RSS of the crawler
//     process alone, and a check that every page is in the database;
//   - colly: bench/plaincolly, a plain colly crawler, crawls the same site;
//     the same figures, its duplicate fetches counted by the server, and the
//     ratio crawler/colly;
//   - realsite: a real documentation site (Debian's python3-doc, installed
//     with nginx by apt-get when missing and run as root) served by a
//     throwaway nginx with gzip on loopback; bin/crawler and plain colly
//     crawl it alternately under the same rules, several times each: medians
//     of wall, CPU, peak RSS, pages/s over the crawl span and the time from
//     the last request (nginx's access log) to the process's exit;
//   - frontier: bench/frontier enqueues millions of URLs over 100,000
//     loopback hosts through the store and measures its RSS and the cost of
//     a Claim as the queue grows; then bin/crawler crawls a slice of that
//     database, its first hosts served by the fast test site (in this
//     process) and the rest refusing connections: the crawler's peak RSS,
//     pages/s and URLs claimed with the whole frontier queued;
//   - politeness: bin/crawler crawls 1,000 rate-limited hosts for a bounded
//     time; achieved pages/s against the sum of the allowed rates, and the
//     server's count of requests over the limit;
//   - distributed: 1, 2 and 4 bin/crawler worker processes share one
//     PostgreSQL crawl (the server CRAWLER_TEST_POSTGRES names: make bench
//     starts a throwaway one): 1,000 hosts allowed 0.5 requests/s each, every
//     worker holding at most a quarter of them, for a minute each, with the
//     site's count of per-host violations; the fast site with politeness off
//     to the end; and one worker on SQLite on the same crawl.
//
// Run it from the module root after "make build": go run ./bench [-run LIST].
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the benchmark's flags.
type options struct {
	run     []string
	crawler string
	dir     string
	keep    bool

	hosts, pages         int
	workers, maxInFlight int
	hostQueue            int
	bodies               string // comma-separated store.bodies settings, one throughput crawl each
	crawlTimeout         time.Duration
	parallelism          int

	frontierURLs  int
	frontierHosts int
	frontierTime  time.Duration
	slicePages    int // crawl-slice limits.max_pages
	sliceHosts    int // frontier hosts the test site serves (0 = no crawl)
	sliceFor      time.Duration

	realSiteRuns int // crawls of the real site by each crawler
	realSiteConc int // concurrent requests of each crawler on the real site

	politeHosts, politePages int
	politeRate, siteRate     float64
	politeBurst, politeWork  int
	politeFor                time.Duration

	distHosts, distPages         int
	distRate                     float64
	distFor                      time.Duration
	distFastHosts, distFastPages int
}

var measurements = []string{"throughput", "colly", "realsite", "frontier", "politeness", "distributed"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	runList := fs.String("run", strings.Join(measurements, ","), "measurements to run, comma-separated: "+strings.Join(measurements, ", "))
	fs.StringVar(&o.crawler, "crawler", "bin/crawler", "crawler binary under test (make build)")
	fs.StringVar(&o.dir, "dir", "", "work directory (default: a new temporary directory)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (databases, configs, helper binaries)")
	fs.IntVar(&o.hosts, "hosts", 8, "throughput: test site hosts")
	fs.IntVar(&o.pages, "pages", 2500, "throughput: pages per host")
	fs.IntVar(&o.workers, "workers", 48, "throughput: crawler workers")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 64, "throughput: crawler politeness.max_in_flight per host")
	fs.IntVar(&o.hostQueue, "host-queue", 0, "throughput: crawler politeness.host_queue (0 = the crawler's default)")
	fs.StringVar(&o.bodies, "bodies", "zstd,s2", "throughput: crawler store.bodies, one crawl each, comma-separated (zstd, s2, gzip, identity, none)")
	fs.DurationVar(&o.crawlTimeout, "crawl-timeout", 10*time.Minute, "throughput and colly: interrupt a crawl that runs longer")
	fs.IntVar(&o.parallelism, "parallelism", 48, "colly: LimitRule parallelism")
	fs.IntVar(&o.realSiteRuns, "realsite-runs", 5, "realsite: crawls by each crawler (the table shows medians)")
	fs.IntVar(&o.realSiteConc, "realsite-concurrency", 32, "realsite: concurrent requests of each crawler (crawler workers and max_in_flight, colly parallelism)")
	fs.IntVar(&o.frontierURLs, "frontier-urls", 10_000_000, "frontier: URLs to enqueue")
	fs.IntVar(&o.frontierHosts, "frontier-hosts", 100_000, "frontier: hosts")
	fs.DurationVar(&o.frontierTime, "frontier-time", 8*time.Minute, "frontier: stop enqueueing after this long and report the size reached")
	fs.IntVar(&o.slicePages, "slice-pages", 20_000, "frontier: pages the crawl of a slice stores at most (limits.max_pages)")
	fs.IntVar(&o.sliceHosts, "slice-hosts", 200, "frontier: hosts served by the test site for the crawl of a slice, the first ones (0 = no crawl)")
	fs.DurationVar(&o.sliceFor, "slice-for", 90*time.Second, "frontier: interrupt the crawl of a slice after this long")
	fs.IntVar(&o.politeHosts, "polite-hosts", 1000, "politeness: hosts")
	fs.IntVar(&o.politePages, "polite-pages", 150, "politeness: pages per host")
	fs.Float64Var(&o.politeRate, "polite-rate", 1, "politeness: crawler politeness.rate per host")
	fs.IntVar(&o.politeBurst, "polite-burst", 1, "politeness: crawler politeness.burst")
	fs.Float64Var(&o.siteRate, "site-rate", 2, "politeness: the site answers 429 above this rate per host")
	fs.IntVar(&o.politeWork, "polite-workers", 64, "politeness: crawler workers")
	fs.DurationVar(&o.politeFor, "polite-for", time.Minute, "politeness: crawl this long, then interrupt")
	fs.IntVar(&o.distHosts, "dist-hosts", 1000, "distributed: politeness-bound hosts (each worker holds at most a quarter)")
	fs.IntVar(&o.distPages, "dist-pages", 100, "distributed: politeness-bound pages per host")
	fs.Float64Var(&o.distRate, "dist-rate", 0.5, "distributed: politeness.rate per host (the site refuses faster)")
	fs.DurationVar(&o.distFor, "dist-for", time.Minute, "distributed: politeness-bound crawl time per worker count")
	fs.IntVar(&o.distFastHosts, "dist-fast-hosts", 16, "distributed: fast site hosts")
	fs.IntVar(&o.distFastPages, "dist-fast-pages", 1000, "distributed: fast site pages per host")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for m := range strings.SplitSeq(*runList, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(measurements, m) {
			return fmt.Errorf("-run: unknown measurement %q (want %s)", m, strings.Join(measurements, ", "))
		}
		o.run = append(o.run, m)
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the module root: go run ./bench")
	}
	if want("throughput", o.run) || want("realsite", o.run) || want("politeness", o.run) || want("distributed", o.run) ||
		want("frontier", o.run) && o.sliceHosts > 0 {
		if _, err := os.Stat(o.crawler); err != nil {
			return fmt.Errorf("crawler binary: %w (run make build)", err)
		}
	}
	crawler, err := filepath.Abs(o.crawler)
	if err != nil {
		return err
	}
	o.crawler = crawler
	if o.dir == "" {
		d, err := os.MkdirTemp("", "crawler-bench-")
		if err != nil {
			return err
		}
		o.dir = d
	}
	if !o.keep {
		defer os.RemoveAll(o.dir)
	}

	b := &bench{o: o, log: stderr, throughputPeakMB: map[string]float64{}}
	fmt.Fprintf(stderr, "bench: %s, %d CPUs, work directory %s\n", runtime.Version(), runtime.NumCPU(), o.dir)
	loadBefore := loadAvg()
	if err := b.buildHelpers(ctx); err != nil {
		return err
	}
	var errs []error
	for _, m := range o.run {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "\n== %s\n", m)
		var err error
		switch m {
		case "throughput":
			err = b.throughput(ctx)
		case "colly":
			err = b.colly(ctx)
		case "realsite":
			err = b.realsite(ctx)
		case "frontier":
			err = b.frontier(ctx)
		case "politeness":
			err = b.politeness(ctx)
		case "distributed":
			err = b.distributed(ctx)
		}
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", m, err)
			errs = append(errs, fmt.Errorf("%s: %w", m, err))
		}
	}
	b.ratio()
	b.note("machine: %d CPUs, %s; load average %s before and %s after the run (other processes on the machine skew the figures).",
		runtime.NumCPU(), runtime.Version(), loadBefore, loadAvg())
	b.print(stdout)
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

func want(m string, list []string) bool { return slices.Contains(list, m) }

// loadAvg returns the 1, 5 and 15 minute load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// bench collects the results of one benchmark run.
type bench struct {
	o   options
	log io.Writer

	siteBin, collyBin, frontierBin string

	rows   []row
	tables []table
	notes  []string

	crawlerRates     []encodingRate     // pages/s of each throughput crawl, for the ratio
	throughputPeakMB map[string]float64 // peak RSS of each throughput crawl by store.bodies, for the crawl of a slice
	collyRate        float64
}

// encodingRate is the throughput of a crawl storing bodies with one encoding.
type encodingRate struct {
	bodies string // comma-separated store.bodies settings, one throughput crawl each
	rate   float64
}

// bestRate returns the fastest throughput crawl's pages/s, or 0.
func (b *bench) bestRate() float64 {
	best := 0.0
	for _, r := range b.crawlerRates {
		best = max(best, r.rate)
	}
	return best
}

// buildHelpers compiles the site, plaincolly and frontier programs once.
func (b *bench) buildHelpers(ctx context.Context) error {
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	for _, h := range []struct {
		pkg string
		dst *string
	}{{"./bench/site", &b.siteBin}, {"./bench/plaincolly", &b.collyBin}, {"./bench/frontier", &b.frontierBin}} {
		*h.dst = filepath.Join(b.o.dir, filepath.Base(h.pkg))
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", *h.dst, h.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		cmd.Stdout, cmd.Stderr = b.log, b.log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", h.pkg, err)
		}
	}
	return nil
}

// logf prints a progress or detail line on stderr.
func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}
