// Command site serves the project's test site on loopback for the benchmark
// and reports what the server saw. It is the site half of "go run ./bench":
// the benchmark runs it as a separate process so that the crawler's CPU and
// memory are measured alone.
//
// On start it prints one JSON line: the seed URLs and the number of pages.
// It serves until SIGINT, SIGTERM or the end of standard input, then prints
// a second JSON line with the server-side counts (requests per host, 429s,
// duplicate requests, the most requests any host saw in one window) and
// exits.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

// Ready is the first line the command prints.
type Ready struct {
	Seeds []string `json:"seeds"`
	Pages int      `json:"pages"` // pages a complete crawl fetches (robots.txt not included)
}

// Report is the last line the command prints.
type Report struct {
	Hosts       int `json:"hosts"`
	Requests    int `json:"requests"`      // all requests, robots.txt and 429s included
	Robots      int `json:"robots"`        // requests for /robots.txt
	Throttled   int `json:"throttled"`     // requests answered 429 by the rate limit
	Paths       int `json:"paths"`         // distinct paths requested, robots.txt excluded
	Duplicates  int `json:"duplicates"`    // requests for a path already requested, robots.txt excluded
	MaxWindow   int `json:"max_window"`    // most requests one host saw in any window
	OverWindow  int `json:"over_window"`   // hosts whose MaxWindow exceeded -window-limit
	MaxInFlight int `json:"max_in_flight"` // most requests one host served at once
	// PerHostWindow is each host's MaxInWindow, in host order.
	PerHostWindow []int   `json:"per_host_window,omitempty"`
	Seconds       float64 `json:"seconds"` // time from ready to stop
	CPUSeconds    float64 `json:"cpu_seconds"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "site:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("site", flag.ContinueOnError)
	var o testsite.Options
	fs.IntVar(&o.Hosts, "hosts", 8, "content hosts")
	fs.IntVar(&o.PagesPerHost, "pages", 2500, "pages per host")
	fs.BoolVar(&o.Fast, "fast", true, "benchmark mode: ~30 KB pages with ~50 links")
	fs.Float64Var(&o.RateLimit, "rate-limit", 0, "answer 429 to requests faster than this many per second per host (0 = off)")
	fs.Int64Var(&o.Seed, "seed", 1, "content seed")
	fs.BoolVar(&o.NoByPath, "no-by-path", false, "do not count requests per path (no duplicate count)")
	window := fs.Duration("window", time.Second, "window for the per-host request maximum")
	windowLimit := fs.Int("window-limit", 0, "count hosts with more than this many requests in one window (0 = off)")
	perHost := fs.Bool("per-host", false, "include every host's window maximum in the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	site, err := testsite.Start(o)
	if err != nil {
		return err
	}
	defer site.Close()
	ready := Ready{Seeds: site.Seeds()}
	if o.Fast {
		ready.Pages = len(site.Expected())
	}
	if err := json.NewEncoder(stdout).Encode(ready); err != nil {
		return fmt.Errorf("write ready line: %w", err)
	}
	start := time.Now()

	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stdin)
		close(eof)
	}()
	select {
	case <-ctx.Done():
	case <-eof:
	}
	elapsed := time.Since(start)
	if err := site.Close(); err != nil {
		return err
	}
	rep := report(site, *window, *windowLimit, *perHost)
	rep.Seconds = elapsed.Seconds()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		rep.CPUSeconds = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// report sums the site's per-host statistics.
func report(site *testsite.Site, window time.Duration, windowLimit int, perHost bool) Report {
	hosts := site.Hosts()
	stats := site.Stats()
	rep := Report{Hosts: len(hosts)}
	names := make([]string, 0, len(stats))
	for h := range stats {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		st := stats[h]
		rep.Requests += st.Requests
		rep.Throttled += st.Throttled
		rep.MaxInFlight = max(rep.MaxInFlight, st.MaxInFlight)
		for path, n := range st.ByPath {
			if path == "/robots.txt" {
				rep.Robots += n
				continue
			}
			rep.Paths++
			rep.Duplicates += n - 1
		}
	}
	for _, h := range hosts {
		w := site.MaxInWindow(h, window)
		rep.MaxWindow = max(rep.MaxWindow, w)
		if windowLimit > 0 && w > windowLimit {
			rep.OverWindow++
		}
		if perHost {
			rep.PerHostWindow = append(rep.PerHostWindow, w)
		}
	}
	return rep
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
