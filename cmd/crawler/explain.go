package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

// jobConfig finds the configuration and database for the inspection
// commands. With --db alone the built-in defaults stand in for the config
// (known reports whether a config file was read).
func jobConfig(dbFlag, nameFlag, configFlag string) (cfg *crawl.Config, known bool, err error) {
	defer func() {
		if err == nil && nameFlag != "" {
			if err = store.CheckCrawlName(nameFlag); err != nil {
				err = usageError{"--name: " + err.Error()}
			}
			cfg.Name = nameFlag
		}
	}()
	if dbFlag != "" && configFlag == "" {
		d := crawl.Defaults()
		d.Database = dbFlag
		return &d, false, nil
	}
	if configFlag == "" {
		configFlag = "config.yaml"
		if _, err := os.Stat(configFlag); err != nil && os.Getenv(databaseEnv) != "" {
			d := crawl.Defaults()
			d.Database = os.Getenv(databaseEnv)
			return &d, false, nil
		}
	}
	if _, err := os.Stat(configFlag); err != nil {
		return nil, false, usageError{fmt.Sprintf("no database given: use --db FILE or -c CONFIG (%s not found)", configFlag)}
	}
	if cfg, err = loadConfig(configFlag); err != nil {
		return nil, false, err
	}
	if dbFlag != "" {
		cfg.Database = dbFlag
	}
	return cfg, true, nil
}

func cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file (canonicalization, user agent, robots settings; default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL (without -c, the default configuration is assumed)")
	name := nameFlag(fs)
	asJSON := fs.Bool("json", false, "print the explanation as JSON")
	links := fs.Int("links", 5, "inbound links to list")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{`explain takes one URL, e.g. crawler explain --db crawl.db "https://example.com/page"`}
	}
	if _, err := c.logger(stderr); err != nil {
		return err
	}
	cfg, known, err := jobConfig(*dbFlag, *name, *configPath)
	if err != nil {
		return err
	}
	db, err := runner.OpenReader(ctx, cfg.Database, cfg.Name, store.ReaderOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	e, err := crawl.Explain(ctx, db, cfg, pos[0], crawl.ExplainOptions{Links: *links, ConfigKnown: known, Now: time.Now()})
	var unknown *crawl.UnknownURL
	switch {
	case errors.Is(err, crawl.ErrNotFetchable):
		return usageError{err.Error()}
	case errors.As(err, &unknown):
		writeUnknown(stdout, unknown)
		return err
	case err != nil:
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	writeExplanation(stdout, e)
	return nil
}

// writeUnknown tells what little is known about a URL not in the frontier,
// and suggests URLs that are.
func writeUnknown(w io.Writer, u *crawl.UnknownURL) {
	fmt.Fprintf(w, "%s is not in the frontier: the crawler has never queued it.\n", u.URL)
	if u.InboundTotal > 0 {
		fmt.Fprintf(w, "\n%d stored pages link to it, but the link was not followed (rel=nofollow, a nofollow page, "+
			"or URL-list mode):\n", u.InboundTotal)
		for _, l := range u.Inbound {
			fmt.Fprintf(w, "  %s %s\n", l.From, linkNote(l))
		}
	}
	if len(u.Similar) > 0 {
		fmt.Fprintln(w, "\nknown URLs with the longest common prefix:")
		for _, s := range u.Similar {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}

func linkNote(l crawl.InboundLink) string {
	s := fmt.Sprintf("%q", oneLine(l.Anchor))
	if l.Nofollow {
		s += " (nofollow)"
	}
	return s
}

// writeExplanation prints an explanation as labelled lines.
func writeExplanation(w io.Writer, e *crawl.Explanation) {
	const indent = "             "
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-12s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("url", "%s", e.URL)
	if e.Given != "" {
		fmt.Fprintf(w, "%scanonical form of %s\n", indent, e.Given)
	}
	state := e.State
	if e.Reason != "" {
		state += ": " + e.Reason
	}
	line("state", "%s", state)
	switch {
	case e.NextAttempt != nil:
		fmt.Fprintf(w, "%snext attempt not before %s (in %v)\n", indent, e.NextAttempt.Format(time.DateTime),
			e.NextAttempt.Sub(e.Now).Round(time.Second))
	case e.DueNow:
		fmt.Fprintf(w, "%sdue now: the next run (or the running crawler) fetches it\n", indent)
	case e.LeaseUntil != nil:
		fmt.Fprintf(w, "%sleased until %s: a crawler is fetching it, or stopped while it did "+
			"(the lease returns to the queue when the host's lease runs out, or at the next run)\n", indent,
			e.LeaseUntil.Format(time.DateTime))
	}
	found := fmt.Sprintf("%s at depth %d, %s", e.Source, e.Depth, e.Discovered.Format(time.DateTime))
	if e.Parent != "" {
		found += ", on " + e.Parent
		if e.ParentAnchor != "" {
			found += fmt.Sprintf(" (%q)", oneLine(e.ParentAnchor))
		}
	}
	line("found", "%s", found)
	if e.InboundTotal > 0 {
		line("linked from", "%s", plural(e.InboundTotal, "stored page"))
		for _, l := range e.Inbound {
			fmt.Fprintf(w, "%s%s %s\n", indent, l.From, linkNote(l))
		}
	}
	fetch := fmt.Sprintf("%s, claimed %s", plural(e.Attempts, "attempt"), plural(e.Claims, "time"))
	if e.Status != 0 {
		fetch += fmt.Sprintf(", last status %d", e.Status)
	}
	if e.Redirects > 0 {
		fetch += fmt.Sprintf(", reached after %d redirects", e.Redirects)
	}

	line("fetch", "%s", fetch)
	if e.Worker != "" {
		by := "recorded by "
		if e.State == store.StateLeased {
			by = "held by "
		} else if e.State == store.StateQueued {
			by = "last claimed by "
		}
		line("worker", "%s", by+e.Worker)
	}
	if e.LastError != "" {
		fmt.Fprintf(w, "%slast error: %s\n", indent, oneLine(e.LastError))
	}
	line("robots.txt", "%s", e.Robots.Detail)
	agent := fmt.Sprintf("for user agent %q", e.Robots.Agent)
	if !e.ConfigKnown {
		agent += " (the default; pass -c for the job's)"
	}
	fmt.Fprintf(w, "%s%s\n", indent, agent)
	if e.Robots.Record != "" {
		fmt.Fprintf(w, "%s%s\n", indent, e.Robots.Record)
	}
	if h := e.Host; h != nil {
		line("host", "%s", h.Origin)
		fmt.Fprintf(w, "%s%s\n", indent, h.Summary(e.Now))
		fmt.Fprintf(w, "%s%s, %s, %d queued, %d leased\n", indent, plural(h.Pages, "page"), plural(h.Errors, "error"), h.Queued, h.Leased)
		if h.Reason != "" {
			fmt.Fprintf(w, "%slast reason: %s\n", indent, oneLine(h.Reason))
		}
	}
	if p := e.Page; p != nil {
		desc := fmt.Sprintf("HTTP %d", p.Status)
		if p.ContentType != "" {
			desc += ", " + p.ContentType
		}
		desc += ", " + byteSize(p.Size)
		if p.Truncated {
			desc += " (truncated at the body cap)"
		}
		if !p.BodyStored {
			desc += ", body not stored"
		}
		line("page", "%s", desc)
		fmt.Fprintf(w, "%sfetched %s in %s\n", indent, p.FetchedAt.Format(time.DateTime), crawl.Millis(p.DurationMS))
		if p.FinalURL != "" {
			fmt.Fprintf(w, "%sredirects to %s\n", indent, p.FinalURL)
		}
		if p.Title != "" {
			fmt.Fprintf(w, "%stitle %q\n", indent, oneLine(p.Title))
		}
		fmt.Fprintf(w, "%s%s, %s", indent, plural(p.Links, "link"), plural(p.Items, "item"))
		if p.MetaRobots != "" {
			fmt.Fprintf(w, ", meta robots %q", p.MetaRobots)
		}
		if p.Canonical != "" && p.Canonical != e.URL {
			fmt.Fprintf(w, ", rel=canonical %s", p.Canonical)
		}
		fmt.Fprintln(w)
		if p.NearDuplicateOf != "" {
			fmt.Fprintf(w, "%snear-duplicate of %s (%s)\n", indent, p.NearDuplicateOf, p.NearReason)
		}
	} else {
		line("page", "none recorded: no HTTP response was stored for this URL")
	}
	if r := e.Revisit; r != nil {
		writeRevisit(w, indent, r, e.Now)
	}
}

// writeRevisit writes the revisit lines of explain: when the URL is due
// again and at what interval, what its fetches found, its versions.
func writeRevisit(w io.Writer, indent string, r *crawl.RevisitInfo, now time.Time) {
	due := "not scheduled"
	switch {
	case r.DueNow:
		due = fmt.Sprintf("due since %s: the next run fetches it", r.NextDue.Format(time.DateTime))
	case r.NextDue != nil:
		due = fmt.Sprintf("next due %s (in %v)", r.NextDue.Format(time.DateTime), r.NextDue.Sub(now).Round(time.Second))
	}
	if r.IntervalMS > 0 {
		due += fmt.Sprintf(", interval %v", time.Duration(r.IntervalMS)*time.Millisecond)
	}
	fmt.Fprintf(w, "%-12s %s\n", "revisit", due)
	fmt.Fprintf(w, "%s%s after the first: %d unchanged (%d answered 304), %d changed; %s\n", indent,
		plural(r.Revisits, "fetch"), r.Unchanged, r.NotModified, r.Revisits-r.Unchanged, plural(r.Versions, "version"))
	for _, v := range r.Recent {
		fmt.Fprintf(w, "%sversion %d: %s, HTTP %d, %s, %s", indent, v.ID, v.FetchedAt.Format(time.DateTime), v.Status,
			byteSize(int(v.Size)), plural(v.Items, "item"))
		if v.ContentHash != "" {
			fmt.Fprintf(w, ", hash %s", v.ContentHash)
		}
		fmt.Fprintln(w)
	}
}

func byteSize(n int) string {
	if n < 1000 {
		return fmt.Sprintf("%d bytes", n)
	}
	return megabytes(int64(n))
}
