package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

func loadConfig(path string) (*crawl.Config, error) {
	cfg, err := crawl.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(cfg.Database) {
		cfg.Database = filepath.Join(filepath.Dir(path), cfg.Database)
	}
	if cfg.URLsFile != "" && !filepath.IsAbs(cfg.URLsFile) {
		cfg.URLsFile = filepath.Join(filepath.Dir(path), cfg.URLsFile)
	}
	return cfg, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "config.yaml", "config file")
	urlsFile := fs.String("urls", "", "fetch exactly the URLs in this file (one per line), following no links")
	grace := fs.Duration("grace", 10*time.Second, "on Ctrl-C, how long in-flight fetches may finish")
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	if *urlsFile != "" {
		cfg.URLsFile = *urlsFile
	}
	if cfg.URLsFile != "" {
		list, err := readURLList(cfg.URLsFile)
		if err != nil {
			return err
		}
		cfg.URLs = append(cfg.URLs, list...)
	}
	if len(cfg.Seeds) == 0 && len(cfg.URLs) == 0 && len(cfg.Sitemaps) == 0 {
		return fmt.Errorf("%s: nothing to crawl: add seeds, urls or sitemaps", *configPath)
	}
	resume := "crawler run -c " + quoteArg(*configPath)
	if *urlsFile != "" {
		resume += " --urls " + quoteArg(*urlsFile)
	}
	return crawlJob(ctx, cfg, log, stdout, stderr, c.quiet, *grace, resume)
}

// crawlJob runs one crawl to its end and prints the final report.
func crawlJob(ctx context.Context, cfg *crawl.Config, log *slog.Logger, stdout, stderr io.Writer, quiet bool, grace time.Duration, resume string) error {
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	eng, err := crawl.New(cfg, db, log)
	if err != nil {
		return err
	}
	if err := eng.Seed(ctx, nil); err != nil {
		return err
	}
	runID, err := db.StartRun(ctx, "")
	if err != nil {
		return err
	}
	if !quiet {
		eng.OnProgress = progressPrinter(stderr)
	}
	outcome, runErr := eng.Run(ctx, grace)
	if err := db.EndRun(context.WithoutCancel(ctx), runID, string(outcome)); err != nil && runErr == nil {
		runErr = err
	}
	st := eng.Snapshot()
	if !quiet || runErr != nil {
		fmt.Fprintf(stdout, "%s: %d pages stored this run, %d failed, %d skipped, %d retries, %.1f MB in %v (%.0f pages/s)\n",
			outcome, st.Pages, st.Errors, st.Skipped, st.Retries, float64(st.Bytes)/1e6,
			time.Since(st.Started).Round(time.Second), float64(st.Pages)/max(time.Since(st.Started).Seconds(), 0.001))
		fmt.Fprintf(stdout, "database: %s\n", cfg.Database)
	}
	switch {
	case errors.Is(runErr, crawl.ErrInterrupted):
		fmt.Fprintf(stderr, "interrupted. Resume with:\n  %s\n", resume)
	case runErr != nil:
		fmt.Fprintf(stderr, "the crawl stopped on an error; after fixing it, resume with:\n  %s\n", resume)
	case outcome == crawl.OutcomeLimit:
		fmt.Fprintln(stdout, "stopped at limits.max_pages; raise it and run the same command to continue")
	}
	return runErr
}

// progressPrinter prints a plain progress line every few seconds.
func progressPrinter(w io.Writer) func(crawl.Stats) {
	var last time.Time
	var lastPages int64
	return func(s crawl.Stats) {
		now := time.Now()
		if now.Sub(last) < 5*time.Second {
			return
		}
		rate := 0.0
		if !last.IsZero() {
			rate = float64(s.Pages-lastPages) / now.Sub(last).Seconds()
		}
		last, lastPages = now, s.Pages
		fmt.Fprintf(w, "%s pages=%d queued=%d in_flight=%d pages/s=%.0f errors=%d hosts=%d backing_off=%d\n",
			now.Format(time.TimeOnly), s.Pages, s.Queued, s.Hosts.InFlight, rate, s.Errors, s.Hosts.Active, s.Hosts.BackingOff)
	}
}

func readURLList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read URL list: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return nil, fmt.Errorf("%s:%d: %q is not an http(s) URL", path, line, s)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read URL list %s: %w", path, err)
	}
	return out, nil
}
