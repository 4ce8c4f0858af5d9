package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "config.yaml", "config file")
	urlsFile := fs.String("urls", "", "fetch exactly the URLs in this file (one per line), following no links")
	grace := fs.Duration("grace", runner.DefaultGrace, "on Ctrl-C, how long in-flight fetches may finish")
	continuous := fs.Bool("continuous", false, "keep running, revisiting URLs as they come due, until stopped (needs recrawl.enabled)")
	update := fs.Bool("update-settings", false, "record this config's seeds, scope, rules and canonicalization as the crawl's, "+
		"when they differ from those its first run recorded (every worker must then run this config)")
	var op jobOptions
	op.register(fs)
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := runConfig(*configPath, *urlsFile)
	if err != nil {
		return err
	}
	if *continuous {
		if !cfg.Recrawl.Enabled {
			return fmt.Errorf("run --continuous: %s has recrawl.enabled: false; a continuous run revisits URLs as they "+
				"come due, so set recrawl.enabled: true", *configPath)
		}
		cfg.Recrawl.Continuous = true
	}
	resume := quoteArg(progName()) + " run -c " + quoteArg(*configPath)
	if *urlsFile != "" {
		resume += " --urls " + quoteArg(*urlsFile)
	}
	if *continuous {
		resume += " --continuous"
	}
	op.quiet, op.grace, op.resume, op.config, op.updateSettings = c.quiet, *grace, resume, *configPath, *update
	return runCrawl(ctx, cfg, log, stdout, stderr, op)
}

// runConfig loads the config a run starts from: the file, the URL list
// it or urlsFile names (urlsFile wins), and a check that there is work.
func runConfig(path, urlsFile string) (*crawl.Config, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if urlsFile != "" {
		cfg.URLsFile = urlsFile
	}
	if cfg.URLsFile != "" {
		list, err := crawl.ReadURLList(cfg.URLsFile)
		if err != nil {
			return nil, err
		}
		cfg.URLs = append(cfg.URLs, list...)
	}
	if err := cfg.CheckWork(path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// crawlJob runs one crawl to its end with the default progress settings
// and prints the final report.
func crawlJob(ctx context.Context, cfg *crawl.Config, log *slog.Logger, stdout, stderr io.Writer, quiet bool, resume string) error {
	return runCrawl(ctx, cfg, log, stdout, stderr, jobOptions{quiet: quiet, grace: runner.DefaultGrace, resume: resume,
		progressEvery: 10 * time.Second, stallAfter: runner.DefaultStallAfter})
}

// jobOptions say how a crawl is run and watched.
type jobOptions struct {
	quiet          bool
	grace          time.Duration
	resume         string        // the command that continues the job
	config         string        // the config file, "" for the built-in defaults
	updateSettings bool          // record the config's settings as the crawl's
	progressEvery  time.Duration // between progress lines when stderr is not a terminal
	stallAfter     time.Duration // warn when nothing completes for this long; 0 = never
	listen         string        // address serving /metrics and /status; "" for none
}

// register adds the flags that watch a crawl.
func (o *jobOptions) register(fs *flag.FlagSet) {
	fs.DurationVar(&o.progressEvery, "progress-every", 10*time.Second, "when stderr is not a terminal, log a progress line this often")
	fs.DurationVar(&o.stallAfter, "stall-after", runner.DefaultStallAfter, "warn when no URL completes for this long while work remains (0 = never)")
	fs.StringVar(&o.listen, "listen", "", "serve /metrics (Prometheus) and /status (JSON) on this address while crawling, e.g. 127.0.0.1:9090")
}

// runCrawl runs one crawl to its end: progress on stderr, optional
// /metrics and /status endpoints, and the final report on stdout.
func runCrawl(ctx context.Context, cfg *crawl.Config, log *slog.Logger, stdout, stderr io.Writer, o jobOptions) error {
	db, err := runner.OpenDatabase(ctx, cfg.Database, cfg.Name)
	if err != nil {
		return err
	}
	defer db.Close()
	ro := runner.Options{StallAfter: o.stallAfter, UpdateSettings: o.updateSettings, FeedStdout: stdout}
	var prog *progress
	if !o.quiet {
		var term io.Writer
		if isTerminal(stderr) {
			term = stderr
		}
		prog = newProgress(log, progressConfig{Term: term, Every: o.progressEvery})
		log, ro.OnProgress = prog.Logger(), prog.show
	}
	ro.Log = log
	var reg *prometheus.Registry
	if o.listen != "" {
		reg = prometheus.NewRegistry()
		ro.Metrics = crawl.NewMetrics(reg)
	}
	r, err := runner.Start(ctx, cfg, db, ro)
	if err != nil {
		return err
	}
	stopOps := func() {}
	if o.listen != "" {
		ops, err := runner.ServeOps(o.listen, reg, r, log)
		if err != nil {
			return err
		}
		var once sync.Once
		stopOps = func() {
			once.Do(func() {
				if err := ops.Close(); err != nil {
					log.Warn("stop metrics server", "err", err)
				}
			})
		}
		defer stopOps()
	}
	// The first Ctrl-C is announced here, through the display, so that
	// the display is not left on screen above the notice and drawn again.
	crawled := make(chan struct{})
	var announcer sync.WaitGroup
	announcer.Add(1)
	go func() {
		defer announcer.Done()
		select {
		case <-ctx.Done():
			if prog != nil {
				prog.Notice(stderr, stopNotice)
			} else {
				fmt.Fprintln(stderr, stopNotice)
			}
		case <-crawled:
		}
	}()
	res, runErr := r.Crawl(ctx, o.grace)
	close(crawled)
	announcer.Wait()
	if prog != nil {
		prog.Close()
	}
	stopOps()
	if o.quiet && runErr == nil {
		return nil
	}
	sum := runSummary{Result: *res, Err: runErr, Limit: cfg.Limits.MaxPages, Database: cfg.Database, Resume: o.resume,
		Prog: quoteArg(progName()), Now: time.Now()}
	if store.IsPostgres(cfg.Database) {
		// The URL may hold a password: commands name the crawl by its config.
		sum.Database = showDatabase(cfg.Database, cfg.Name)
		sum.Select = "-c " + quoteArg(o.config)
	}
	if errors.Is(runErr, crawl.ErrInterrupted) {
		sum.Err = nil
	}
	sum.DB, err = db.Report(context.WithoutCancel(ctx), res.Since, 5)
	if err != nil {
		log.Warn("final report: the database summary is missing", "err", err)
	}
	report := stdout
	for _, f := range cfg.Feeds {
		if f.Path == "-" {
			report = stderr // standard output carries the feed
		}
	}
	writeReport(report, sum)
	return runErr
}
