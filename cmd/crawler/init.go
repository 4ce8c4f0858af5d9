package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
)

func cmdInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	var c common
	c.register(fs)
	out := fs.String("o", "config.yaml", "config file to write")
	force := fs.Bool("force", false, "overwrite the file if it exists")
	var allow listFlag
	fs.Var(&allow, "allow-addresses", "comma-separated private or loopback addresses, CIDRs or host names the crawl may reach "+
		"(written to fetch.allow_addresses); may be repeated")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler init URL [-o config.yaml] [--force] [--allow-addresses LIST]\n\n"+
			"Fetches the site's robots.txt and the page (as a crawl would) and writes a commented config:\n"+
			"the seed, the scope of its host, robots.txt and its sitemaps, a rate from Crawl-delay, and\n"+
			"starter extraction rules for JSON-LD products or articles and repeated blocks on the page.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"init takes one URL, e.g. crawler init https://example.com/ -o shop.yaml"}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg := crawl.Defaults()
	cfg.Fetch.AllowAddresses = allow
	for i, a := range allow {
		if _, err := crawl.ParseAllowList([]string{a}); err != nil {
			return usageError{fmt.Sprintf("--allow-addresses entry %d: %v", i+1, err)}
		}
	}
	// Refuse before fetching anything, and again when writing.
	if _, err := os.Stat(*out); err == nil && !*force {
		return fmt.Errorf("init: %s exists; choose another file with -o, or overwrite it with --force", *out)
	}
	sc, err := crawl.NewScaffold(ctx, &cfg, pos[0], time.Now(), log)
	if errors.Is(err, crawl.ErrBlockedAddress) {
		return fmt.Errorf("%w\n(for crawler init, pass the address with --allow-addresses; it is written to fetch.allow_addresses)", err)
	}
	if err != nil {
		return err
	}
	text := []byte(strings.ReplaceAll(string(sc.Config), "THIS_FILE", quoteArg(*out)))
	// Write beside the target and link it into place, so an existing file
	// is never overwritten unless asked, even by a race.
	tmp, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(text)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if *force {
			err = os.Rename(tmp.Name(), *out)
		} else if err = os.Link(tmp.Name(), *out); errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("%s exists; choose another file with -o, or overwrite it with --force", *out)
		}
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := crawl.LoadConfig(*out); err != nil {
		return fmt.Errorf("init wrote a config that does not load (please report this): %w", err)
	}
	if !c.quiet {
		ins := sc.Inspection
		fmt.Fprintf(stdout, "wrote %s for %s\n", *out, ins.URL)
		fmt.Fprintf(stdout, "  robots.txt: %s\n", ins.Robots.Detail)
		if len(ins.Sitemaps) > 0 {
			fmt.Fprintf(stdout, "  sitemaps: %s\n", strings.Join(ins.Sitemaps, ", "))
		}
		per := "requests"
		if sc.Rate == 1 {
			per = "request"
		}
		fmt.Fprintf(stdout, "  rate: %g %s per second", sc.Rate, per)
		if ins.CrawlDelay != "" {
			fmt.Fprintf(stdout, " (Crawl-delay %s)", ins.CrawlDelay)
		}
		fmt.Fprintln(stdout)
		prog := quoteArg(progName())
		if len(sc.Rules) > 0 {
			var names []string
			for _, r := range sc.Rules {
				names = append(names, fmt.Sprintf("%s (%s)", r.Name, plural(len(r.Fields), "field")))
			}
			fmt.Fprintf(stdout, "  starter rules: %s\n", strings.Join(names, ", "))
			fmt.Fprintf(stdout, "try them:\n  %s extract -c %s %s\n", prog, quoteArg(*out), quoteArg(ins.Page.URL))
		}
		fmt.Fprintf(stdout, "then:\n  %s check -c %s\n  %s run -c %s\n", prog, quoteArg(*out), prog, quoteArg(*out))
	}
	return nil
}

// listFlag is a flag of comma-separated values that may be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "config.yaml", "config file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler check [-c config.yaml]\n\n"+
			"Validates a config and prints what a run would start with: the seeds with their scope and\n"+
			"robots.txt verdicts (robots.txt is fetched, no page), the scope, the limits and the rules.\n"+
			"Exits with status 1 when a run would refuse a seed or the config is invalid.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("check takes no arguments, got %q (name the config with -c)", pos[0])}
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	cfg, err := runConfig(*configPath, "")
	if err != nil {
		return err
	}
	rep, err := crawl.Check(ctx, cfg, log)
	if err != nil {
		return err
	}
	writeCheck(stdout, *configPath, cfg, rep)
	if rep.Problems > 0 {
		return fmt.Errorf("check %s: a run would refuse %s", *configPath, plural(rep.Problems, "seed"))
	}
	return nil
}

// writeCheck prints what a run of cfg would start with.
func writeCheck(w io.Writer, path string, cfg *crawl.Config, rep *crawl.CheckReport) {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	line("config", "%s: valid", path)
	db := "will be created"
	if st, err := os.Stat(cfg.Database); err == nil {
		db = fmt.Sprintf("exists (%s): a run resumes it", megabytes(st.Size()))
	}
	line("database", "%s, %s", cfg.Database, db)
	what := "seeds"
	if rep.ListMode {
		what = "urls (fetched as listed, no links followed)"
	}
	fmt.Fprintf(w, "%s: %d\n", what, len(rep.Seeds)+rep.More)
	for _, s := range rep.Seeds {
		switch {
		case s.Skipped != "":
			fmt.Fprintf(w, "  refused  %s: %s\n", s.URL, s.Skipped)
		case s.Error != "":
			fmt.Fprintf(w, "  refused  %s: %s\n", s.URL, s.Error)
		default:
			fmt.Fprintf(w, "  ok       %s: robots.txt %s\n", s.URL, s.Robots.Detail)
		}
		if s.Hint != "" {
			fmt.Fprintf(w, "           (%s)\n", s.Hint)
		}
	}
	if rep.More > 0 {
		fmt.Fprintf(w, "  ... and %d more, not checked\n", rep.More)
	}
	scope := "hosts " + strings.Join(rep.ScopeHosts, ", ")
	if len(cfg.Scope.Hosts) == 0 {
		scope += " (the seeds' hosts)"
	}
	if cfg.Scope.Subdomains {
		scope += ", and their subdomains"
	}
	if n := len(cfg.Scope.Include); n > 0 {
		scope += fmt.Sprintf("; a URL must match one of %s", plural(n, "include pattern"))
	}
	if n := len(cfg.Scope.Exclude); n > 0 {
		scope += fmt.Sprintf("; %s", plural(n, "exclude pattern"))
	}
	line("scope", "%s", scope)
	l := cfg.Limits
	limit := func(n int) string {
		if n == 0 {
			return "none"
		}
		return groupDigits(int64(n))
	}
	line("limits", "max_depth %s, max_pages %s, max_pages_per_host %s, max_body_size %s", limit(l.MaxDepth), limit(l.MaxPages),
		limit(l.MaxPagesPerHost), strings.TrimSuffix(fmt.Sprintf("%.2f", float64(l.MaxBodySize)/(1<<20)), ".00")+"MiB")
	p := cfg.Politeness
	rate := "unlimited"
	if p.Rate > 0 {
		rate = fmt.Sprintf("%g/s", p.Rate)
	}
	robots := "obeyed"
	if !p.ObeyRobots {
		robots = "ignored (politeness.obey_robots: false)"
	}
	line("politeness", "rate %s per host, max_in_flight %d, robots.txt %s, %s", rate, p.MaxInFlight, robots, plural(cfg.Workers, "worker"))
	allow := "none"
	if len(cfg.Fetch.AllowAddresses) > 0 {
		allow = strings.Join(cfg.Fetch.AllowAddresses, ", ")
	}
	line("fetch", "user agent %q, allow_addresses: %s", cfg.Fetch.UserAgent, allow)
	sitemaps := "discovery off"
	if cfg.SitemapDiscovery {
		sitemaps = "discovery on (robots.txt and /sitemap.xml)"
	}
	if n := len(cfg.Sitemaps); n > 0 {
		sitemaps += fmt.Sprintf(", %s configured", plural(n, "sitemap"))
	}
	line("sitemaps", "%s", sitemaps)
	if len(cfg.Extract) == 0 {
		line("rules", "none: pages, links and page_data only")
	} else {
		var rs []string
		for _, r := range cfg.Extract {
			s := fmt.Sprintf("%s (match %q, %s", r.Name, r.Match, plural(len(r.Fields), "field"))
			if r.Root != "" {
				s += ", one item per " + r.Root
			}
			rs = append(rs, s+")")
		}
		line("rules", "%s", strings.Join(rs, "; "))
	}
	if rep.Problems == 0 {
		fmt.Fprintf(w, "ok: a run would start with %s\n", plural(len(rep.Seeds)+rep.More, "URL"))
	}
}
