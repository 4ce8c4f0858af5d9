package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
)

func cmdFetch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file (default: the built-in defaults, with the URL as the seed)")
	body := fs.Bool("body", false, "print the body, decoded to UTF-8, instead of the report")
	asJSON := fs.Bool("json", false, "print everything as one JSON object")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler fetch [-c config.yaml] [--body | --json] URL\n\n"+
			"Fetches one URL exactly as a crawl would, touching no database: scope, robots.txt (fetched first),\n"+
			"the address guard, each redirect hop, status, headers, charset, title, the links the crawl would\n"+
			"follow and why not, the items the rules extract, and timings.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"fetch takes one URL, e.g. crawler fetch https://example.com/"}
	}
	if *body && *asJSON {
		return usageError{"--body and --json exclude each other (--json includes the body)"}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg := crawl.Defaults()
	if *configPath != "" {
		loaded, err := crawl.LoadConfig(*configPath)
		if err != nil {
			return err
		}
		cfg = *loaded
	}
	ins, err := crawl.Inspect(ctx, &cfg, pos[0], crawl.InspectOptions{Body: *body || *asJSON, Log: log})
	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if jerr := enc.Encode(ins); jerr != nil {
			return jerr
		}
	case *body:
		if ins.Page != nil {
			io.WriteString(stdout, ins.Page.Body)
		}
	default:
		writeInspection(stdout, ins)
	}
	return err
}

// writeInspection prints what crawler fetch found.
func writeInspection(w io.Writer, ins *crawl.Inspection) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("url", "%s", ins.URL)
	if ins.Given != ins.URL {
		line("", "canonical form of %s", ins.Given)
	}
	if ins.Scope == "" {
		line("scope", "in scope (scope from %s)", ins.ScopeFrom)
	} else {
		line("scope", "a crawl would skip it as a seed: %s (scope from %s)", ins.Scope, ins.ScopeFrom)
		if ins.ScopeHint != "" {
			line("", "%s", ins.ScopeHint)
		}
	}
	if v := ins.Robots; v.Verdict != "" {
		line("robots.txt", "%s", v.Detail)
		if ins.CrawlDelay != "" {
			line("", "Crawl-delay %s", ins.CrawlDelay)
		}
		for _, s := range ins.Sitemaps {
			line("", "Sitemap: %s", s)
		}
	}
	if len(ins.Requests) > 0 {
		fmt.Fprintln(w, "requests:")
		for i, r := range ins.Requests {
			what := fmt.Sprintf("HTTP %d", r.Status)
			if r.Error != "" {
				what = "error: " + r.Error
			}
			fmt.Fprintf(w, "  %d. GET %s  %s  %s\n", i+1, r.URL, what, timings(r.Timings))
			if r.Via != "" {
				fmt.Fprintf(w, "     via proxy %s\n", r.Via)
			}
			if r.Location != "" {
				fmt.Fprintf(w, "     redirect to %s: %s\n", r.Location, r.Redirect)
			} else if r.Redirect != "" {
				fmt.Fprintf(w, "     %s\n", r.Redirect)
			}
		}
	}
	if ins.Stopped != "" {
		line("not fetched", "%s", ins.Stopped)
	}
	p := ins.Page
	if p == nil {
		return
	}
	line("status", "%d %s", p.Status, http.StatusText(p.Status))
	line("crawl", "%s: %s", p.State, p.Reason)
	if p.Retry != "" {
		line("", "%s", p.Retry)
	}
	fmt.Fprintln(w, "headers:")
	for _, k := range crawl.HeaderNames(p.Headers) {
		fmt.Fprintf(w, "  %s: %s\n", k, oneLine(p.Headers[k]))
	}
	size := byteSize(p.Size)
	if p.Decoded != "" {
		size += " (decoded from " + p.Decoded + ")"
	}
	if p.Truncated {
		size += ", cut at limits.max_body_size"
	}
	line("body", "%s", size)
	if p.Charset != "" {
		line("charset", "%s (%s)", p.Charset, p.CharsetSource)
	}
	if !p.Parsed {
		line("parsed", "no: the crawl stores this response without parsing it (fetch.parse_types)")
		return
	}
	line("title", "%q", oneLine(p.Title))
	if p.Description != "" {
		line("description", "%q", oneLine(p.Description))
	}
	if p.Canonical != "" {
		line("canonical", "%s", p.Canonical)
	}
	if p.MetaRobots != "" {
		line("meta robots", "%s", p.MetaRobots)
	}
	if p.XRobotsTag != "" {
		line("X-Robots-Tag", "%s", p.XRobotsTag)
	}
	if p.Lang != "" {
		line("lang", "%s", p.Lang)
	}
	follow := 0
	for _, l := range p.Links {
		if l.Follow {
			follow++
		}
	}
	fmt.Fprintf(w, "links: %s, %d followed\n", plural(len(p.Links), "link"), follow)
	for _, l := range p.Links {
		mark := "follow"
		if !l.Follow {
			mark = "skip  "
		}
		fmt.Fprintf(w, "  %s %s", mark, l.URL)
		if l.Anchor != "" {
			fmt.Fprintf(w, " %q", oneLine(l.Anchor))
		}
		if l.Why != "" {
			fmt.Fprintf(w, "  (%s)", l.Why)
		}
		fmt.Fprintln(w)
	}
	if len(p.Items) == 0 {
		fmt.Fprintln(w, "items: none (no rule set of the config matches this URL, or its rules found nothing)")
	} else {
		fmt.Fprintf(w, "items: %s\n", plural(len(p.Items), "item"))
	}
	for _, it := range p.Items {
		b, _ := json.Marshal(it.Data)
		fmt.Fprintf(w, "  %s #%d %s", it.Rule, it.Index, b)
		if len(it.Errors) > 0 {
			fmt.Fprintf(w, "  errors: %s", strings.Join(it.Errors, "; "))
		}
		fmt.Fprintln(w)
	}
}

// timings formats a request's phases, leaving out those that did not happen.
func timings(t crawl.Timings) string {
	var parts []string
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"dns", t.DNS}, {"connect", t.Connect}, {"tls", t.TLS}, {"headers", t.Headers}, {"body", t.Body}} {
		if p.d > 0 {
			parts = append(parts, p.name+" "+shortDuration(p.d))
		}
	}
	s := "total " + shortDuration(t.Total)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if t.Reused {
		s += ", reused connection"
	}
	return s
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
