package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

// hostJSON is one host as "crawler hosts --json" and "crawler explain"
// show it. In-flight fetches are not stored in the database, so they are
// not here; Leased counts the URLs a crawler has claimed.
type hostJSON struct {
	Origin       string     `json:"origin"`
	State        string     `json:"state"`
	Reason       string     `json:"reason,omitempty"`
	RatePerSec   *float64   `json:"rate_per_second"` // null when unknown or unlimited
	DelayMS      int64      `json:"delay_ms"`
	DelaySource  string     `json:"delay_source"` // stored, config or unknown
	CrawlDelayMS int64      `json:"crawl_delay_ms,omitempty"`
	LatencyMS    int64      `json:"latency_ms"`
	BackoffLevel int        `json:"backoff_level"`
	Failures     int        `json:"failures"`
	PausedUntil  *time.Time `json:"paused_until,omitempty"`
	Queued       int        `json:"queued"`
	Leased       int        `json:"leased"`
	Pages        int        `json:"pages"`
	Errors       int        `json:"errors"`
}

func newHostJSON(h *store.HostInfo, now time.Time) hostJSON {
	j := hostJSON{
		Origin: h.Origin, State: h.State, Reason: h.Reason, DelayMS: h.DelayMS, CrawlDelayMS: h.CrawlDelayMS,
		LatencyMS: h.LatencyMS, BackoffLevel: h.BackoffLevel, Failures: h.Failures, Queued: h.Queued,
		Leased: h.Leased, Pages: h.Pages, Errors: h.Errors, DelaySource: "unknown",
	}
	if t := h.PausedUntil(now); !t.IsZero() {
		j.PausedUntil = &t
	}
	if d := max(h.DelayMS, h.CrawlDelayMS); d > 0 {
		j.DelayMS, j.DelaySource = d, "stored"
		r := 1000 / float64(d)
		j.RatePerSec = &r
	}
	return j
}

// applyConfig fills in the configured pace for a host whose pace the
// database does not hold (the scheduler stores it only when it changes).
func (j *hostJSON) applyConfig(p crawl.Politeness) {
	if j.DelaySource != "unknown" {
		return
	}
	r := p.Rate
	if u, err := url.Parse(j.Origin); err == nil {
		if o, ok := p.Hosts[u.Host]; ok && o.Rate > 0 {
			r = o.Rate
		} else if o, ok := p.Hosts[u.Hostname()]; ok && o.Rate > 0 {
			r = o.Rate
		}
	}
	j.DelaySource = "config"
	if r > 0 {
		j.DelayMS = int64(1000 / r)
		j.RatePerSec = &r
	} else {
		j.DelayMS = 0 // unlimited
	}
}

// rateString is the host's request rate for display.
func (j *hostJSON) rateString() string {
	switch {
	case j.RatePerSec != nil && *j.RatePerSec >= 10:
		return fmt.Sprintf("%.0f/s", *j.RatePerSec)
	case j.RatePerSec != nil:
		return fmt.Sprintf("%.2g/s", *j.RatePerSec)
	case j.DelaySource == "config":
		return "unlimited"
	}
	return "-"
}

// summary is a one-line account of the host's pace and pause.
func (j *hostJSON) summary(now time.Time) string {
	var b strings.Builder
	b.WriteString(j.State)
	switch {
	case j.DelaySource == "stored":
		fmt.Fprintf(&b, ", %s between requests (%s)", millis(j.DelayMS), j.rateString())
	case j.DelaySource == "config" && j.RatePerSec != nil:
		fmt.Fprintf(&b, ", %s between requests (%s, as configured)", millis(j.DelayMS), j.rateString())
	case j.DelaySource == "config":
		b.WriteString(", no rate limit (as configured)")
	default:
		b.WriteString(", pace as configured (pass -c to show it)")
	}
	if j.CrawlDelayMS > 0 {
		fmt.Fprintf(&b, ", Crawl-delay %s", millis(j.CrawlDelayMS))
	}
	if j.LatencyMS > 0 {
		fmt.Fprintf(&b, ", latency %s", millis(j.LatencyMS))
	}
	fmt.Fprintf(&b, ", backoff level %d", j.BackoffLevel)
	if j.Failures > 0 {
		fmt.Fprintf(&b, ", %d connection failures", j.Failures)
	}
	if j.PausedUntil != nil {
		fmt.Fprintf(&b, ", paused until %s (in %v)", j.PausedUntil.Format(time.TimeOnly), j.PausedUntil.Sub(now).Round(time.Second))
	} else {
		b.WriteString(", not paused")
	}
	return b.String()
}

func cmdHosts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hosts", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database (default config.yaml)")
	dbFlag := fs.String("db", "", "database file")
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
	cfg, known, err := jobConfig(*dbFlag, *configPath)
	if err != nil {
		return err
	}
	db, err := store.OpenReadOnly(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	hs, total, err := db.HostList(ctx, store.HostOrder(*sortBy), *limit)
	if err != nil {
		return usageError{err.Error()}
	}
	now := time.Now()
	rows := make([]hostJSON, len(hs))
	for i := range hs {
		rows[i] = newHostJSON(&hs[i], now)
		if known {
			rows[i].applyConfig(cfg.Politeness)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	writeHosts(stdout, rows, total, cfg.Database, now)
	return nil
}

// writeHosts prints the host table.
func writeHosts(w io.Writer, rows []hostJSON, total int, database string, now time.Time) {
	fmt.Fprintf(w, "database: %s, %d hosts", database, total)
	if len(rows) < total {
		fmt.Fprintf(w, " (showing %d; --limit N for more)", len(rows))
	}
	fmt.Fprintln(w)
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "origin\tstate\trate\tdelay\tlatency\tbackoff\tpaused until\tqueued\tleased\tpages\terrors\twhy")
	for _, h := range rows {
		delay := "-"
		if h.DelaySource != "unknown" && h.DelayMS > 0 {
			delay = millis(h.DelayMS)
		}
		latency := "-"
		if h.LatencyMS > 0 {
			latency = millis(h.LatencyMS)
		}
		paused := "-"
		if h.PausedUntil != nil {
			paused = h.PausedUntil.Format(time.TimeOnly)
			if h.PausedUntil.Sub(now) > 24*time.Hour {
				paused = h.PausedUntil.Format(time.DateTime)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", h.Origin, h.State, h.rateString(), delay,
			latency, h.BackoffLevel, paused, h.Queued, h.Leased, h.Pages, h.Errors, oneLine(h.Reason))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nIn-flight fetches are not stored in the database: \"leased\" counts URLs a running crawler has claimed\n"+
		"(buffered or being fetched). For live numbers, run with --listen ADDR and GET /status.")
}
