// Command plaincolly is the baseline of the benchmark: a crawler written the
// way colly's documentation teaches, with nothing of the project's own. It
// runs colly in Async mode with one LimitRule for all domains, follows every
// a[href] with e.Request.Visit and relies on colly's in-memory visited set.
// It stores nothing.
//
// It prints one JSON line when the crawl ends: responses, distinct URLs,
// duplicate fetches (responses for a URL already answered) and errors.
//
// -url-filter and -robots are colly's own URLFilters and robots.txt check
// (off by default in colly), for crawls that must follow the same rules as
// the crawler's scope.include and politeness.obey_robots.
//
//	plaincolly [-parallelism 48] [-timeout 10m] [-url-filter REGEXP] [-robots] URL...
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"
)

// Result is what one crawl did, counted by the crawler itself.
type Result struct {
	Responses  int     `json:"responses"`  // OnResponse calls
	URLs       int     `json:"urls"`       // distinct URLs answered
	Duplicates int     `json:"duplicates"` // responses beyond the first per URL
	Errors     int     `json:"errors"`     // OnError calls
	Seconds    float64 `json:"seconds"`
	TimedOut   bool    `json:"timed_out"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "plaincolly:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("plaincolly", flag.ContinueOnError)
	parallelism := fs.Int("parallelism", 48, "LimitRule parallelism over all domains")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop the crawl after this long")
	filter := fs.String("url-filter", "", "follow only URLs matching this regular expression (colly.URLFilters)")
	obeyRobots := fs.Bool("robots", false, "obey robots.txt (colly ignores it by default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	seeds := fs.Args()
	if len(seeds) == 0 {
		return errors.New("no seed URLs given")
	}
	var r rules
	r.parallelism, r.obeyRobots = *parallelism, *obeyRobots
	if *filter != "" {
		re, err := regexp.Compile(*filter)
		if err != nil {
			return fmt.Errorf("-url-filter: %w", err)
		}
		r.filter = re
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := crawl(ctx, seeds, r)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

// rules are what a crawl follows besides the seeds' host names.
type rules struct {
	parallelism int
	filter      *regexp.Regexp // nil: every URL
	obeyRobots  bool
}

// crawl follows every link from seeds within the seeds' host names.
func crawl(ctx context.Context, seeds []string, r rules) (Result, error) {
	var domains []string
	for _, s := range seeds {
		u, err := url.Parse(s)
		if err != nil {
			return Result{}, fmt.Errorf("seed %q: %w", s, err)
		}
		domains = append(domains, u.Hostname())
	}
	opts := []colly.CollectorOption{
		colly.Async(),
		colly.AllowedDomains(domains...),
		colly.StdlibContext(ctx),
	}
	if r.filter != nil {
		opts = append(opts, colly.URLFilters(r.filter))
	}
	c := colly.NewCollector(opts...)
	c.IgnoreRobotsTxt = !r.obeyRobots
	if err := c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: r.parallelism}); err != nil {
		return Result{}, fmt.Errorf("limit rule: %w", err)
	}

	var mu sync.Mutex
	perURL := map[string]int{} // guarded by mu
	var res Result             // Responses and Errors guarded by mu
	c.OnHTML("a[href]", func(e *colly.HTMLElement) {
		e.Request.Visit(e.Attr("href"))
	})
	c.OnResponse(func(r *colly.Response) {
		mu.Lock()
		perURL[r.Request.URL.String()]++
		res.Responses++
		mu.Unlock()
	})
	c.OnError(func(r *colly.Response, err error) {
		mu.Lock()
		res.Errors++
		mu.Unlock()
	})

	start := time.Now()
	for _, s := range seeds {
		if err := c.Visit(s); err != nil {
			return Result{}, fmt.Errorf("visit %s: %w", s, err)
		}
	}
	c.Wait()
	res.Seconds = time.Since(start).Seconds()
	res.TimedOut = ctx.Err() != nil
	mu.Lock()
	defer mu.Unlock()
	res.URLs = len(perURL)
	for _, n := range perURL {
		res.Duplicates += n - 1
	}
	return res, nil
}
