package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/testsite"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var c common
	c.register(fs)
	dir := fs.String("dir", "demo", "directory for the demo database")
	hosts := fs.Int("hosts", 4, "number of demo hosts")
	pages := fs.Int("pages", 250, "pages per demo host")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	site, err := testsite.Start(testsite.Options{Hosts: *hosts, PagesPerHost: *pages, Seed: 1})
	if err != nil {
		return fmt.Errorf("start demo site: %w", err)
	}
	defer site.Close()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	db := filepath.Join(*dir, "demo.db")
	// The site's port is new on every run, so each demo starts afresh.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	cfg := demoConfig(db, site.Seeds())
	fmt.Fprintf(stdout, "demo site: %s on loopback (%s ...), crawling into %s\n", plural(*hosts, "host"), site.Hosts()[0], db)
	prog := quoteArg(progName())
	err = crawlJob(ctx, cfg, log, stdout, stderr, c.quiet, prog+" demo (starts afresh)")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Try these queries (they also work while a crawl runs):

  %[2]s query --db %[1]s "SELECT status, count(*) AS n FROM pages GROUP BY status ORDER BY n DESC"
  %[2]s query --db %[1]s "SELECT state, reason, count(*) AS n FROM frontier WHERE state <> 'done' GROUP BY 1, 2 ORDER BY n DESC LIMIT 10"
  %[2]s query --db %[1]s "SELECT rule, json_extract(data, '$.name') AS name, json_extract(data, '$.price') AS price FROM items LIMIT 10"

and "%[2]s status --db %[1]s" for a summary.
`, quoteArg(db), prog)
	return nil
}

// demoConfig is the default configuration pointed at the demo site, with
// loopback allowed and politeness loosened for a local server.
func demoConfig(db string, seeds []string) *crawl.Config {
	cfg := crawl.Defaults()
	cfg.Database = db
	cfg.Seeds = seeds
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	cfg.Politeness.Rate = 25
	cfg.Politeness.Burst = 2
	cfg.Politeness.MaxInFlight = 2
	cfg.Fetch.RetryBase = 200 * time.Millisecond
	cfg.Politeness.BackoffBase = 200 * time.Millisecond
	cfg.Extract = demoRules()
	return &cfg
}

func cmdTestsite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("testsite", flag.ContinueOnError)
	var o testsite.Options
	fs.IntVar(&o.Hosts, "hosts", 8, "content hosts")
	fs.IntVar(&o.PagesPerHost, "pages", 1000, "pages per host")
	fs.IntVar(&o.Port, "port", 0, "port (0 = any free port)")
	fs.BoolVar(&o.Fast, "fast", false, "benchmark mode: ~30 KB pages, ~50 links, no errors")
	fs.BoolVar(&o.Hostile, "hostile", false, "add hostile hosts (traps, bombs, slow servers)")
	fs.Int64Var(&o.Seed, "seed", 1, "content seed")
	fs.Float64Var(&o.Changes.Text, "change-text", 0, "share of products and articles whose text is edited each generation")
	fs.Float64Var(&o.Changes.Price, "change-price", 0, "share of products whose price changes each generation")
	fs.Float64Var(&o.Changes.Remove, "change-remove", 0, "share of products and articles removed (404 or 410) each generation")
	fs.Float64Var(&o.Changes.New, "change-new", 0, "new products and articles each generation, as a share of the live ones")
	fs.BoolVar(&o.Duplicates, "duplicates", false, "add exact duplicates, print versions and near-identical editions of pages")
	gen := fs.Int("generation", 0, "generation to serve first")
	every := fs.Duration("advance-every", 0, "move on to the next generation this often (0 = never)")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *every < 0 {
		return usageError{fmt.Sprintf("--advance-every %v is negative", *every)}
	}
	site, err := testsite.Start(o)
	if err != nil {
		return err
	}
	defer site.Close()
	if err := site.SetGeneration(*gen); err != nil {
		return fmt.Errorf("testsite: %w", err)
	}
	for _, s := range site.Seeds() {
		fmt.Fprintln(stdout, s)
	}
	fmt.Fprintf(stderr, "serving generation %d; Ctrl-C to stop\n", site.Generation())
	if *every == 0 {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			g, err := site.Advance()
			if err != nil {
				return fmt.Errorf("testsite: %w", err)
			}
			fmt.Fprintf(stderr, "serving generation %d\n", g)
		}
	}
}

// progName is how the user invoked the crawler, for commands to copy.
func progName() string {
	if len(os.Args) > 0 && strings.Contains(os.Args[0], "/") && !strings.Contains(os.Args[0], "go-build") {
		return os.Args[0]
	}
	return "crawler"
}
