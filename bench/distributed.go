package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgEnv names the PostgreSQL server the distributed measurements use: make
// bench runs under scripts/with-postgres, which starts a throwaway one.
const pgEnv = "CRAWLER_TEST_POSTGRES"

// workerCounts are the numbers of worker processes each distributed
// measurement runs.
var workerCounts = []int{1, 2, 4}

// distributed measures crawls shared by 1, 2 and 4 worker processes on one
// PostgreSQL crawl: (a) politeness-bound, many hosts each allowed
// -dist-rate requests per second, each worker holding at most a quarter of
// them, for -dist-for each; (b) the fast site with politeness off, to the
// end; and one worker on PostgreSQL against the same crawl on SQLite.
func (b *bench) distributed(ctx context.Context) error {
	url := os.Getenv(pgEnv)
	if url == "" {
		return errors.New(pgEnv + " is not set: make bench runs with a throwaway PostgreSQL (scripts/with-postgres)")
	}
	var errs []error
	if err := b.distPolite(ctx, url); err != nil {
		errs = append(errs, fmt.Errorf("politeness-bound: %w", err))
	}
	if err := b.distFast(ctx, url); err != nil {
		errs = append(errs, fmt.Errorf("fast site: %w", err))
	}
	return errors.Join(errs...)
}

// runWorkers runs n crawler processes on cfg until they end or ctx is
// done (then each is interrupted, and killed after grace).
func (b *bench) runWorkers(ctx context.Context, cfg string, n int) error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		cmd := command(ctx, 20*time.Second, b.o.crawler, "run", "--quiet", "-c", cfg, "--grace", "5s")
		cmd.Stdout, cmd.Stderr = io.Discard, prefixWriter{b.log, fmt.Sprintf("  worker %d: ", i+1)}
		if err := cmd.Start(); err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cmd.Wait()
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil // interrupted at the end of the measurement window
	}
	return errors.Join(errs...)
}

// pgPages counts the pages of crawl name fetched in [from, to] (unix ms;
// all when to is 0) and the URLs still queued or leased.
func pgPages(ctx context.Context, url, name string, from, to int64) (inWindow, live int, err error) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close(ctx)
	s := pgx.Identifier{name}.Sanitize()
	if to == 0 {
		to = 1 << 62
	}
	err = c.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+s+`.pages WHERE status = 200 AND fetched_at BETWEEN $1 AND $2),
		(SELECT count(*) FROM `+s+`.frontier WHERE state IN ('queued', 'leased'))`, from, to).Scan(&inWindow, &live)
	return inWindow, live, err
}

func dropCrawl(ctx context.Context, url, name string) {
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return
	}
	defer c.Close(ctx)
	c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
}

// distConfig is crawlConfig for a crawl in PostgreSQL.
func distConfig(url, name string, seeds []string, workers int, politeness string) string {
	cfg := crawlConfig(url, seeds, workers, politeness, "zstd")
	return "name: " + name + "\nsitemap_discovery: false\n" + cfg
}

func (b *bench) distPolite(ctx context.Context, url string) error {
	o := b.o
	allowed := float64(o.distHosts) * o.distRate
	rates := map[int]float64{}
	for _, n := range workerCounts {
		siteArgs := []string{"-hosts", strconv.Itoa(o.distHosts), "-pages", strconv.Itoa(o.distPages),
			"-rate-limit", strconv.FormatFloat(o.distRate, 'g', -1, 64), "-window", "1s", "-window-limit", "1", "-no-by-path"}
		site, err := startSite(ctx, b.siteBin, siteArgs...)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("bench_polite_%d", n)
		dropCrawl(ctx, url, name)
		pol := fmt.Sprintf("  rate: %g\n  burst: 1\n  max_in_flight: 1\n  max_active_hosts: %d\n", o.distRate, o.distHosts/4)
		cfg, err := b.writeConfig(name+".yaml", distConfig(url, name, site.ready.Seeds, o.politeWork, pol))
		if err != nil {
			site.stop()
			return err
		}
		b.logf("  %d workers, %d hosts x %g/s, each worker at most %d hosts, for %v", n, o.distHosts, o.distRate, o.distHosts/4, o.distFor)
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, o.distFor)
		runErr := b.runWorkers(cctx, cfg, n)
		cancel()
		stop := start.Add(o.distFor)
		rep, siteErr := site.stop()
		if runErr != nil {
			return runErr
		}
		if siteErr != nil {
			return siteErr
		}
		pages, _, err := pgPages(ctx, url, name, start.UnixMilli(), stop.UnixMilli())
		if err != nil {
			return err
		}
		rate := float64(pages) / o.distFor.Seconds()
		rates[n] = rate
		b.logf("  %d workers: %d pages in %v; site: %d requests, %d throttled, max %d per host in 1 s, %d hosts over, max in flight %d",
			n, pages, o.distFor, rep.Requests, rep.Throttled, rep.MaxWindow, rep.OverWindow, rep.MaxInFlight)
		cmd := b.cmdFor("distributed", "")
		b.add(row{fmt.Sprintf("distributed, politeness-bound: %d worker(s), %d hosts x %g/s, each worker <= %d hosts", n,
			o.distHosts, o.distRate, o.distHosts/4), fmt.Sprintf("%.0f pages/s of %.0f allowed (x%.2f of 1 worker)", rate, allowed,
			rate/max(rates[1], 0.001)), "", "", cmd})
		b.add(row{fmt.Sprintf("distributed, politeness-bound, %d worker(s): site's per-host violations (429, over 1 in 1 s, 2 at once)", n),
			fmt.Sprintf("%d, %d, max in flight %d", rep.Throttled, rep.OverWindow, rep.MaxInFlight), "0, 0, 1",
			met(rep.Throttled == 0 && rep.OverWindow == 0 && rep.MaxInFlight <= 1), cmd})
		dropCrawl(ctx, url, name)
	}
	if rates[1] > 0 {
		x := rates[4] / rates[1]
		b.add(row{"distributed, politeness-bound: 4 workers / 1 worker", fmt.Sprintf("x%.2f", x), ">= x3.5", met(x >= 3.5),
			b.cmdFor("distributed", "")})
	}
	return nil
}

func (b *bench) distFast(ctx context.Context, url string) error {
	o := b.o
	var rate1PG float64
	for _, n := range append([]int{0}, workerCounts...) { // 0: one worker on SQLite
		siteArgs := []string{"-hosts", strconv.Itoa(o.distFastHosts), "-pages", strconv.Itoa(o.distFastPages)}
		site, err := startSite(ctx, b.siteBin, siteArgs...)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("bench_fast_%d", n)
		database := url
		workers := max(n, 1)
		if n == 0 {
			database = filepath.Join(o.dir, "dist-fast.db")
		}
		dropCrawl(ctx, url, name)
		pol := fmt.Sprintf("  rate: 0\n  max_in_flight: %d\n  latency_factor: 0\n  max_active_hosts: %d\n", o.maxInFlight,
			(o.distFastHosts+workers-1)/workers)
		cfg, err := b.writeConfig(name+".yaml", distConfig(database, name, site.ready.Seeds, o.workers, pol))
		if err != nil {
			site.stop()
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, o.crawlTimeout)
		start := time.Now()
		runErr := b.runWorkers(cctx, cfg, workers)
		wall := time.Since(start)
		timedOut := cctx.Err() != nil
		cancel()
		rep, siteErr := site.stop()
		if runErr != nil {
			return runErr
		}
		if siteErr != nil {
			return siteErr
		}
		var pages int
		store := "PostgreSQL"
		if n == 0 {
			c, err := countPages(ctx, database, 0, 0)
			if err != nil {
				return err
			}
			pages, store = c.OK, "SQLite"
		} else if pages, _, err = pgPages(ctx, url, name, 0, 0); err != nil {
			return err
		}
		rate := float64(pages) / wall.Seconds()
		if n == 1 {
			rate1PG = rate
		}
		what := fmt.Sprintf("%d worker(s), %s", workers, store)
		value := fmt.Sprintf("%.0f pages/s (%d pages in %.1f s)", rate, pages, wall.Seconds())
		if timedOut {
			value += " (interrupted)"
		}
		if n > 1 && rate1PG > 0 {
			value += fmt.Sprintf(", x%.2f of 1 worker", rate/rate1PG)
		}
		b.logf("  %s: %s; site: %d requests, %d duplicates", what, value, rep.Requests, rep.Duplicates)
		b.add(row{fmt.Sprintf("distributed, fast site %d hosts x %d pages, politeness off: %s", o.distFastHosts, o.distFastPages, what),
			value, "", "", b.cmdFor("distributed", "")})
		b.add(row{"distributed, fast site, " + what + ": duplicate fetches, server-side", strconv.Itoa(rep.Duplicates), "0",
			met(rep.Duplicates == 0), b.cmdFor("distributed", "")})
		dropCrawl(ctx, url, name)
	}
	return nil
}
