package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/store"
)

// jobConfig finds the configuration and database for the inspection
// commands. With --db alone the built-in defaults stand in for the config
// (known reports whether a config file was read).
func jobConfig(dbFlag, configFlag string) (cfg *crawl.Config, known bool, err error) {
	if dbFlag != "" && configFlag == "" {
		d := crawl.Defaults()
		d.Database = dbFlag
		return &d, false, nil
	}
	if configFlag == "" {
		configFlag = "config.yaml"
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
	dbFlag := fs.String("db", "", "database file (without -c, the default configuration is assumed)")
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
	cfg, known, err := jobConfig(*dbFlag, *configPath)
	if err != nil {
		return err
	}
	norm, err := urlnorm.New(urlnorm.Options{StripParams: cfg.Canonical.StripParams, SortQuery: cfg.Canonical.SortQuery})
	if err != nil {
		return fmt.Errorf("canonicalization: %w", err)
	}
	arg := strings.TrimSpace(pos[0])
	canon, err := norm.CanonicalString(arg)
	if err != nil {
		return usageError{fmt.Sprintf("%q is not a URL the crawler can fetch: %v", arg, err)}
	}
	db, err := store.OpenReadOnly(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	info, err := db.Explain(ctx, canon, *links)
	if errors.Is(err, store.ErrUnknownURL) && canon != arg {
		// The database may have been crawled with other canonicalization settings.
		if alt, altErr := db.Explain(ctx, arg, *links); altErr == nil {
			info, err, canon = alt, nil, arg
		}
	}
	if errors.Is(err, store.ErrUnknownURL) {
		return explainUnknown(ctx, db, canon, *links, stdout)
	}
	if err != nil {
		return err
	}
	e := buildExplanation(info, explainContext{
		Arg: arg, Agent: robots.ProductToken(cfg.Fetch.UserAgent), ObeyRobots: cfg.Politeness.ObeyRobots,
		ConfigKnown: known, Now: time.Now(),
	})
	if known && e.Host != nil {
		e.Host.applyConfig(cfg.Politeness)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	writeExplanation(stdout, e)
	return nil
}

// explainUnknown tells what little is known about a URL not in the
// frontier, and suggests URLs that are.
func explainUnknown(ctx context.Context, db *store.DB, canon string, links int, w io.Writer) error {
	fmt.Fprintf(w, "%s is not in the frontier: the crawler has never queued it.\n", canon)
	in, total, err := db.Inbound(ctx, canon, links)
	if err != nil {
		return err
	}
	if total > 0 {
		fmt.Fprintf(w, "\n%d stored pages link to it, but the link was not followed (rel=nofollow, a nofollow page, "+
			"or URL-list mode):\n", total)
		for _, l := range in {
			fmt.Fprintf(w, "  %s %s\n", l.From, linkNote(l))
		}
	}
	similar, err := db.SimilarURLs(ctx, canon, 10)
	if err != nil {
		return err
	}
	if len(similar) > 0 {
		fmt.Fprintln(w, "\nknown URLs with the longest common prefix:")
		for _, s := range similar {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	return fmt.Errorf("explain %s: %w", canon, store.ErrUnknownURL)
}

func linkNote(l store.InboundLink) string {
	s := fmt.Sprintf("%q", oneLine(l.Anchor))
	if l.Nofollow {
		s += " (nofollow)"
	}
	return s
}

// explainContext is what an explanation needs besides the database row.
type explainContext struct {
	Arg         string // the URL as the user gave it
	Agent       string // robots.txt product token
	ObeyRobots  bool
	ConfigKnown bool // false when the defaults stand in for a config file
	Now         time.Time
}

// explanation is everything known about a URL, ready to print or encode.
type explanation struct {
	URL          string        `json:"url"`
	Given        string        `json:"given,omitempty"` // the argument, when it differs from the canonical form
	State        string        `json:"state"`
	Reason       string        `json:"reason,omitempty"`
	Source       string        `json:"source"`
	Depth        int           `json:"depth"`
	Discovered   time.Time     `json:"discovered"`
	Updated      time.Time     `json:"updated"`
	Attempts     int           `json:"attempts"`
	Claims       int           `json:"claims"`
	Redirects    int           `json:"redirects,omitempty"`
	Status       int           `json:"status,omitempty"`
	LastError    string        `json:"last_error,omitempty"`
	NextAttempt  *time.Time    `json:"next_attempt,omitempty"` // queued: not before this time
	DueNow       bool          `json:"due_now,omitempty"`      // queued and due
	LeaseUntil   *time.Time    `json:"lease_until,omitempty"`
	Parent       string        `json:"parent,omitempty"`
	ParentAnchor string        `json:"parent_anchor,omitempty"`
	Inbound      []inboundJSON `json:"inbound,omitempty"`
	InboundTotal int           `json:"inbound_total"`
	Robots       robotsVerdict `json:"robots"`
	Host         *hostJSON     `json:"host,omitempty"`
	Page         *pageJSON     `json:"page,omitempty"`

	now         time.Time
	configKnown bool
}

type inboundJSON struct {
	From     string `json:"from"`
	Anchor   string `json:"anchor"`
	Nofollow bool   `json:"nofollow,omitempty"`
}

// robotsVerdict is what robots.txt says about a URL, and on what grounds.
type robotsVerdict struct {
	Verdict string `json:"verdict"` // allowed, disallowed, unavailable, unknown, ignored
	Rule    string `json:"rule,omitempty"`
	Line    int    `json:"line,omitempty"`
	Group   string `json:"group,omitempty"`
	Agent   string `json:"agent"`
	Detail  string `json:"detail"`
	Record  string `json:"record,omitempty"` // where the cached robots.txt came from
}

type pageJSON struct {
	Status      int       `json:"status"`
	FinalURL    string    `json:"final_url,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Encoding    string    `json:"encoding,omitempty"`
	Size        int       `json:"size"`
	Truncated   bool      `json:"truncated"`
	BodyStored  bool      `json:"body_stored"`
	Title       string    `json:"title,omitempty"`
	Canonical   string    `json:"canonical,omitempty"`
	MetaRobots  string    `json:"meta_robots,omitempty"`
	FetchedAt   time.Time `json:"fetched_at"`
	DurationMS  int64     `json:"duration_ms"`
	Links       int       `json:"links"`
	Items       int       `json:"items"`
}

func buildExplanation(u *store.URLInfo, c explainContext) explanation {
	e := explanation{
		URL: u.URL, State: u.State, Reason: u.Reason, Source: u.Source, Depth: u.Depth,
		Discovered: u.DiscoveredAt, Updated: u.UpdatedAt, Attempts: u.Attempts, Claims: u.Claims,
		Redirects: u.Redirects, Status: u.Status, LastError: u.LastError, Parent: u.ParentURL,
		ParentAnchor: u.ParentAnchor, InboundTotal: u.InboundTotal, now: c.Now, configKnown: c.ConfigKnown,
	}
	if c.Arg != u.URL {
		e.Given = c.Arg
	}
	if u.State == store.StateQueued {
		if t := u.NextAttemptAt; t.After(c.Now) {
			e.NextAttempt = &t
		} else {
			e.DueNow = true
		}
	}
	if u.State == store.StateLeased && !u.LeaseUntil.IsZero() {
		t := u.LeaseUntil
		e.LeaseUntil = &t
	}
	for _, l := range u.Inbound {
		e.Inbound = append(e.Inbound, inboundJSON{From: l.From, Anchor: l.Anchor, Nofollow: l.Nofollow})
	}
	e.Robots = judgeRobots(u, c)
	if u.Host != nil {
		h := newHostJSON(u.Host, c.Now)
		e.Host = &h
	}
	if p := u.Page; p != nil {
		e.Page = &pageJSON{Status: p.Status, ContentType: p.ContentType, Encoding: p.Encoding, Size: p.Size,
			Truncated: p.Truncated, BodyStored: p.BodyStored, Title: p.Title, Canonical: p.Canonical,
			MetaRobots: p.MetaRobots, FetchedAt: p.FetchedAt, DurationMS: p.Duration.Milliseconds(),
			Links: p.Links, Items: p.Items}
		if p.FinalURL != u.URL {
			e.Page.FinalURL = p.FinalURL
		}
	}
	return e
}

// judgeRobots tests the URL against the host's stored robots.txt the way
// the crawler does before each fetch.
func judgeRobots(u *store.URLInfo, c explainContext) robotsVerdict {
	v := robotsVerdict{Agent: c.Agent}
	if !c.ObeyRobots {
		v.Verdict, v.Detail = "ignored", "not consulted: politeness.obey_robots is false"
		return v
	}
	h := u.Host
	if h == nil {
		v.Verdict, v.Detail = "unknown", "no host record: the URL was skipped before its host was contacted"
		return v
	}
	if !h.RobotsFetched {
		v.Verdict, v.Detail = "unknown", "robots.txt has not been fetched yet for "+h.Origin
		return v
	}
	v.Record = fmt.Sprintf("robots.txt answered HTTP %d at %s", h.RobotsStatus, h.RobotsFetchedAt.Format(time.DateTime))
	if h.RobotsStatus == 0 {
		v.Record = fmt.Sprintf("robots.txt fetch failed at %s", h.RobotsFetchedAt.Format(time.DateTime))
	}
	if !h.RobotsExpiresAt.IsZero() {
		if h.RobotsExpiresAt.After(c.Now) {
			v.Record += ", cached until " + h.RobotsExpiresAt.Format(time.DateTime)
		} else {
			v.Record += ", expired (fetched again before the host's next request)"
		}
	}
	switch s := h.RobotsStatus; {
	case s >= 200 && s < 300:
		pu, err := url.Parse(u.URL)
		if err != nil {
			v.Verdict, v.Detail = "unknown", "unparsable URL: "+err.Error()
			return v
		}
		r := robots.Parse(h.RobotsBody)
		t := r.Test(c.Agent, pu.RequestURI())
		v.Rule, v.Line, v.Group = t.Rule, t.Line, t.Group
		switch {
		case t.Allowed && t.Rule == "":
			v.Verdict, v.Detail = "allowed", "allowed: no rule matches"
		case t.Allowed:
			v.Verdict, v.Detail = "allowed", fmt.Sprintf("allowed by %q (line %d)", t.Rule, t.Line)
		case t.Rule == "":
			v.Verdict, v.Detail = "disallowed", "disallowed"
		default:
			v.Verdict, v.Detail = "disallowed", fmt.Sprintf("disallowed by %q (line %d)", t.Rule, t.Line)
		}
		if t.Group != "" {
			v.Detail += fmt.Sprintf(", in the group for %q", t.Group)
		} else {
			v.Detail += ", no group applies to this agent"
		}
		if d, ok := r.CrawlDelay(c.Agent); ok {
			v.Detail += fmt.Sprintf("; Crawl-delay %v", d)
		}
	case s >= 300 && s < 500:
		v.Verdict, v.Detail = "allowed", fmt.Sprintf("robots.txt answered HTTP %d: everything is allowed (RFC 9309)", s)
	default:
		why := fmt.Sprintf("HTTP %d", s)
		if s == 0 || h.RobotsError != "" {
			why = h.RobotsError
		}
		v.Verdict = "unavailable"
		v.Detail = fmt.Sprintf("robots.txt unavailable (%s, %d failed attempts): everything is disallowed until it can be fetched",
			why, h.RobotsFailures)
	}
	return v
}

// writeExplanation prints an explanation as labelled lines.
func writeExplanation(w io.Writer, e explanation) {
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
			e.NextAttempt.Sub(e.now).Round(time.Second))
	case e.DueNow:
		fmt.Fprintf(w, "%sdue now: the next run (or the running crawler) fetches it\n", indent)
	case e.LeaseUntil != nil:
		fmt.Fprintf(w, "%sleased until %s: a crawler is fetching it, or stopped while it did "+
			"(the next run reclaims the lease)\n", indent, e.LeaseUntil.Format(time.DateTime))
	}
	found := fmt.Sprintf("%s at depth %d, %s", e.Source, e.Depth, e.Discovered.Format(time.DateTime))
	if e.Parent != "" {
		found += ", first on " + e.Parent
		if e.ParentAnchor != "" {
			found += fmt.Sprintf(" (%q)", oneLine(e.ParentAnchor))
		}
	}
	line("found", "%s", found)
	if e.InboundTotal > 0 {
		line("linked from", "%s", plural(e.InboundTotal, "stored page"))
		for _, l := range e.Inbound {
			fmt.Fprintf(w, "%s%s %s\n", indent, l.From, linkNote(store.InboundLink{Anchor: l.Anchor, Nofollow: l.Nofollow}))
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
	if e.LastError != "" {
		fmt.Fprintf(w, "%slast error: %s\n", indent, oneLine(e.LastError))
	}
	line("robots.txt", "%s", e.Robots.Detail)
	agent := fmt.Sprintf("for user agent %q", e.Robots.Agent)
	if !e.configKnown {
		agent += " (the default; pass -c for the job's)"
	}
	fmt.Fprintf(w, "%s%s\n", indent, agent)
	if e.Robots.Record != "" {
		fmt.Fprintf(w, "%s%s\n", indent, e.Robots.Record)
	}
	if h := e.Host; h != nil {
		line("host", "%s", h.Origin)
		fmt.Fprintf(w, "%s%s\n", indent, h.summary(e.now))
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
		fmt.Fprintf(w, "%sfetched %s in %s\n", indent, p.FetchedAt.Format(time.DateTime), millis(p.DurationMS))
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
	} else {
		line("page", "none recorded: no HTTP response was stored for this URL")
	}
}

// plural writes "1 page", "2 pages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func byteSize(n int) string {
	if n < 1000 {
		return fmt.Sprintf("%d bytes", n)
	}
	return megabytes(int64(n))
}
