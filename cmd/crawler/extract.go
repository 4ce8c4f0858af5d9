package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

// extractResult is what "crawler extract" prints.
type extractResult struct {
	URL       string        `json:"url"`
	Source    string        `json:"source"` // database, fetched or file
	Status    int           `json:"status,omitempty"`
	FetchedAt string        `json:"fetched_at,omitempty"`
	Items     []extractItem `json:"items"`
}

type extractItem struct {
	Rule   string         `json:"rule"`
	Index  int            `json:"index"`
	Data   map[string]any `json:"data"`
	Errors []string       `json:"errors"`
}

func cmdExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "config.yaml", "config file with the extraction rules")
	pageURL := fs.String("url", "", "for a FILE: the URL the page came from (rule sets match on it)")
	ruleName := fs.String("rule", "", "apply only this rule set, whatever URL its match pattern accepts")
	fresh := fs.Bool("fetch", false, "fetch the URL even when the database has a stored copy")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler extract [-c config.yaml] (URL | FILE.html) [--url URL] [--rule NAME] [--fetch]\n\n"+
			"Runs the configured extraction rules on one page and prints the items as JSON. A URL is served\n"+
			"from the database when the crawl stored it, otherwise fetched (robots.txt obeyed).\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"extract takes one URL or HTML file, e.g. crawler extract https://example.com/product/1"}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	all, err := extractRules(cfg, *configPath, "", false)
	if err != nil {
		return err
	}
	rules := all
	if *ruleName != "" {
		if rules, err = extractRules(cfg, *configPath, *ruleName, true); err != nil {
			return err
		}
	}
	target := pos[0]
	var res *extractResult
	var body []byte
	var ctype string
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		p, err := extractPage(ctx, cfg, target, *fresh)
		if err != nil {
			return err
		}
		res = &extractResult{URL: p.URL, Source: p.Source, Status: p.Status}
		if !p.FetchedAt.IsZero() {
			res.FetchedAt = p.FetchedAt.UTC().Format(time.RFC3339)
		}
		body, ctype = p.Body, p.ContentType
		if p.Truncated {
			fmt.Fprintf(stderr, "note: the body was cut at limits.max_body_size (%d bytes)\n", cfg.Limits.MaxBodySize)
		}
		if !cfg.ParsesType(ctype) && !c.quiet {
			fmt.Fprintf(stderr, "note: %s is %s, which is not in fetch.parse_types: the crawl stores it without extracting items\n", res.URL, ctype)
		}
	} else {
		if body, err = os.ReadFile(target); err != nil {
			return fmt.Errorf("extract: %w", err)
		}
		res = &extractResult{URL: *pageURL, Source: "file"}
		if res.URL == "" {
			abs, err := filepath.Abs(target)
			if err != nil {
				return fmt.Errorf("extract: %w", err)
			}
			res.URL = "file://" + filepath.ToSlash(abs)
		}
	}
	if !c.quiet {
		extractWarnUnmatched(stderr, cfg, all, *ruleName, res.URL)
	}
	items, err := crawl.ExtractItems(rules, res.URL, body, ctype)
	if err != nil {
		return err
	}
	res.Items = make([]extractItem, 0, len(items))
	withErrors := 0
	for _, it := range items {
		errs := it.Errors
		if errs == nil {
			errs = []string{}
		} else {
			withErrors++
		}
		res.Items = append(res.Items, extractItem{Rule: it.Set, Index: it.Index, Data: it.Fields, Errors: errs})
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return err
	}
	if !c.quiet {
		fmt.Fprintf(stderr, "%s, %d with errors (source: %s)\n", plural(len(items), "item"), withErrors, res.Source)
	}
	return nil
}

// extractPage returns the page at rawURL from the database when the crawl
// stored its body (unless fresh), otherwise fetched.
func extractPage(ctx context.Context, cfg *crawl.Config, rawURL string, fresh bool) (*crawl.RulesPage, error) {
	var db crawl.PageReader // nil: the page is fetched
	if _, err := os.Stat(cfg.Database); (err == nil || store.IsPostgres(cfg.Database)) && !fresh {
		r, err := runner.OpenReader(ctx, cfg.Database, cfg.Name, store.ReaderOptions{})
		if err != nil {
			return nil, err
		}
		defer r.Close()
		db = r
	}
	return crawl.PageForRules(ctx, cfg, db, rawURL, fresh)
}

// extractRules compiles the config's rule sets, or only the one named, which
// with anyURL is made to match every URL.
func extractRules(cfg *crawl.Config, configPath, name string, anyURL bool) (*parse.Rules, error) {
	rules, err := cfg.CompileRuleSets(name, anyURL)
	var unknown *crawl.UnknownRuleError
	if errors.As(err, &unknown) {
		return nil, usageError{fmt.Sprintf("%s: %v", configPath, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", configPath, err)
	}
	return rules, nil
}

// extractWarnUnmatched tells the user when the crawl would not apply the rules to
// pageURL because no match pattern accepts it.
func extractWarnUnmatched(w io.Writer, cfg *crawl.Config, all *parse.Rules, name, pageURL string) {
	matched := map[string]bool{}
	for _, s := range all.Match(pageURL) {
		matched[s.Name()] = true
	}
	if name != "" {
		if !matched[name] {
			fmt.Fprintf(w, "note: applying rule set %q although its match pattern does not accept %s; the crawl would not apply it there\n", name, pageURL)
		}
		return
	}
	if len(matched) > 0 {
		return
	}
	var pats []string
	for _, rs := range cfg.Extract {
		pats = append(pats, fmt.Sprintf("%s: %q", rs.Name, rs.Match))
	}
	fmt.Fprintf(w, "note: no rule set matches %s (%s); use --url to give a file's URL, or --rule NAME to apply one anyway\n",
		pageURL, strings.Join(pats, ", "))
}

func cmdReextract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reextract", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "config.yaml", "config file with the extraction rules")
	ruleName := fs.String("rule", "", "re-run only this rule set, leaving other rule sets' items as they are")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler reextract [-c config.yaml] [--rule NAME]\n\n"+
			"Runs the current extraction rules over the stored page bodies, without fetching anything,\n"+
			"and replaces the pages' items. It needs the database to itself: stop a running crawl first.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("reextract takes no arguments, got %q", pos[0])}
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	rules, err := extractRules(cfg, *configPath, *ruleName, false)
	if err != nil {
		return err
	}
	var only []string
	if *ruleName != "" {
		only = []string{*ruleName}
	}
	if _, err := os.Stat(cfg.Database); err != nil && !store.IsPostgres(cfg.Database) {
		return fmt.Errorf("reextract: %w", err)
	}
	db, err := runner.OpenDatabase(ctx, cfg.Database, cfg.Name)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("reextract: %s is in use by a running crawl (or another reextract); reextract rewrites items "+
			"and needs the database to itself: let the crawl finish or stop it, then run reextract again: %w", cfg.Database, err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	lastNote := time.Now()
	st, err := crawl.Reextract(ctx, db, cfg, crawl.ReextractOptions{Rules: rules, Only: only,
		Failed: func(id int64, url string, err error) {
			fmt.Fprintf(stderr, "page %d %s: %v (its items are left as they were)\n", id, url, err)
		},
		Batched: func(st crawl.ReextractStats) {
			if now := time.Now(); !c.quiet && now.Sub(lastNote) >= 5*time.Second {
				lastNote = now
				fmt.Fprintf(stderr, "%s pages=%d items=%d (up to page id %d)\n", now.Format(time.TimeOnly), st.Pages, st.Items, st.After)
			}
		}})
	writeReextract(stdout, st)
	if err != nil && ctx.Err() != nil {
		fmt.Fprintf(stderr, "interrupted: pages up to id %d have their new items; run reextract again to finish\n", st.After)
		return crawl.ErrInterrupted
	}
	return err
}

// writeReextract prints what reextract did.
func writeReextract(w io.Writer, r crawl.ReextractStats) {
	fmt.Fprintf(w, "reextracted %s in %v: %s, %d with errors", plural(r.Pages, "page"), r.Took.Round(time.Millisecond),
		plural(r.Items, "item"), r.WithErrors)
	if r.Skipped > 0 {
		fmt.Fprintf(w, "; %s skipped (not in fetch.parse_types)", plural(r.Skipped, "stored body"))
	}
	if r.Failed > 0 {
		fmt.Fprintf(w, "; %s failed", plural(r.Failed, "page"))
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(r.ByRule))
	for n := range r.ByRule {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-24s %s\n", n, plural(r.ByRule[n], "item"))
	}
	if len(r.FieldErrors) > 0 {
		fmt.Fprintln(w, "\nfields that failed, most frequent first:")
		for _, e := range r.FieldErrors {
			what := e.Rule + "." + e.Field
			if e.Field == "" {
				what = e.Rule
			}
			fmt.Fprintf(w, "  %7s  %s: %s\n", groupDigits(int64(e.Count)), what, e.Reason)
			if e.Example != e.Reason {
				fmt.Fprintf(w, "           e.g. %s on %s\n", oneLine(e.Example), e.URL)
			} else {
				fmt.Fprintf(w, "           e.g. on %s\n", e.URL)
			}
		}
		fmt.Fprintln(w, "Fix the rules and run reextract again; crawler extract URL shows one page's items and errors.")
	}
}
