package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdHosts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hosts", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database (default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL")
	name := nameFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per host")
	limit := fs.Int("limit", 50, "hosts to list")
	sortBy := fs.String("sort", "queued", "order: queued, pages, errors, latency or delay")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("hosts takes no arguments, got %q", pos)}
	}
	if _, err := c.logger(stderr); err != nil {
		return err
	}
	cfg, known, err := jobConfig(*dbFlag, *name, *configPath)
	if err != nil {
		return err
	}
	order := store.HostOrder(*sortBy)
	if err := order.Check(); err != nil {
		return usageError{"--sort: " + err.Error()}
	}
	db, err := runner.OpenReader(ctx, cfg.Database, cfg.Name, store.ReaderOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	hs, total, err := db.HostList(ctx, order, *limit)
	if err != nil {
		return err
	}
	now := time.Now()
	var pol *crawl.Politeness
	if known {
		pol = &cfg.Politeness
	}
	rows := crawl.HostPaces(hs, pol, now)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	writeHosts(stdout, rows, total, showDatabase(cfg.Database, cfg.Name), now)
	return nil
}

// writeHosts prints the host table.
func writeHosts(w io.Writer, rows []crawl.HostPace, total int, database string, now time.Time) {
	fmt.Fprintf(w, "database: %s, %s", database, plural(total, "host"))
	if len(rows) < total {
		fmt.Fprintf(w, " (showing %d; --limit N for more)", len(rows))
	}
	fmt.Fprintln(w)
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "origin\tstate\trate\tdelay\tlatency\tbackoff\tpaused until\tqueued\tleased\tpages\terrors\towner\twhy")
	for _, h := range rows {
		delay := "-"
		if h.DelaySource != "unknown" && h.DelayMS > 0 {
			delay = crawl.Millis(h.DelayMS)
		}
		latency := "-"
		if h.LatencyMS > 0 {
			latency = crawl.Millis(h.LatencyMS)
		}
		paused := "-"
		if h.PausedUntil != nil {
			paused = h.PausedUntil.Format(time.TimeOnly)
			if h.PausedUntil.Sub(now) > 24*time.Hour {
				paused = h.PausedUntil.Format(time.DateTime)
			}
		}
		owner := "-"
		if h.Owner != "" {
			owner = h.Owner
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", h.Origin, h.State, h.RateString(), delay,
			latency, h.BackoffLevel, paused, h.Queued, h.Leased, h.Pages, h.Errors, owner, oneLine(h.Reason))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nIn-flight fetches are not stored in the database: \"leased\" counts URLs a running crawler has claimed\n"+
		"(buffered or being fetched). For live numbers, run with --listen ADDR and GET /status.")
}
