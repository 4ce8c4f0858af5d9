package crawl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/store"
)

// ErrNotFetchable is wrapped by Explain's error for an argument that is not
// a URL the crawler can fetch.
var ErrNotFetchable = errors.New("not a URL the crawler can fetch")

// ExplainOptions tune Explain.
type ExplainOptions struct {
	Links int // inbound links to list
	// ConfigKnown is false when the defaults stand in for the job's
	// configuration: the host's configured pace is then not shown.
	ConfigKnown bool
	Now         time.Time
}

// Explanation is everything known about one URL, as "crawler explain" and
// the service's explain endpoint show it: its frontier row, how it was
// found, what robots.txt says about it, its host's pace and its page.
type Explanation struct {
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
	Worker       string        `json:"worker,omitempty"` // the worker that claimed it last: recorded it, or holds it
	Redirects    int           `json:"redirects,omitempty"`
	Status       int           `json:"status,omitempty"`
	LastError    string        `json:"last_error,omitempty"`
	NextAttempt  *time.Time    `json:"next_attempt,omitempty"` // queued: not before this time
	DueNow       bool          `json:"due_now,omitempty"`      // queued and due
	LeaseUntil   *time.Time    `json:"lease_until,omitempty"`
	Parent       string        `json:"parent,omitempty"`
	ParentAnchor string        `json:"parent_anchor,omitempty"`
	Inbound      []InboundLink `json:"inbound,omitempty"`
	InboundTotal int           `json:"inbound_total"`
	Robots       RobotsVerdict `json:"robots"`
	Host         *HostPace     `json:"host,omitempty"`
	Page         *PageSummary  `json:"page,omitempty"`
	Revisit      *RevisitInfo  `json:"revisit,omitempty"`

	Now         time.Time `json:"-"` // the time the explanation was made at
	ConfigKnown bool      `json:"-"` // see ExplainOptions
}

// InboundLink is a stored page that links to a URL.
type InboundLink struct {
	From     string `json:"from"`
	Anchor   string `json:"anchor"`
	Nofollow bool   `json:"nofollow,omitempty"`
}

// RobotsVerdict is what robots.txt says about a URL, and on what grounds.
type RobotsVerdict struct {
	Verdict string `json:"verdict"` // allowed, disallowed, unavailable, unknown, ignored
	Rule    string `json:"rule,omitempty"`
	Line    int    `json:"line,omitempty"`
	Group   string `json:"group,omitempty"`
	Agent   string `json:"agent"`
	Detail  string `json:"detail"`
	Record  string `json:"record,omitempty"` // where the cached robots.txt came from
}

// PageSummary is the stored response of a URL, without its body.
type PageSummary struct {
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
	// SimHash of the main text, 16 hex digits ("" for none); the page it
	// nearly duplicates, and why.
	SimHash         string `json:"simhash,omitempty"`
	NearDuplicateOf string `json:"near_duplicate_of,omitempty"`
	NearReason      string `json:"near_duplicate_reason,omitempty"`
}

// RevisitInfo is a URL's revisit history (recrawl): its fetches, versions,
// interval and next due time.
type RevisitInfo struct {
	NextDue     *time.Time `json:"next_due,omitempty"` // nil: not scheduled
	DueNow      bool       `json:"due_now,omitempty"`
	IntervalMS  int64      `json:"interval_ms,omitempty"`
	Revisits    int        `json:"revisits"`     // fetches after the first that got an answer
	Unchanged   int        `json:"unchanged"`    // of them, finding what was stored
	NotModified int        `json:"not_modified"` // of them, answered 304
	Versions    int        `json:"versions"`
	Recent      []Version  `json:"recent_versions,omitempty"` // newest first
}

// Version is one recorded version of a URL.
type Version struct {
	ID          int64     `json:"id"`
	FetchedAt   time.Time `json:"fetched_at"`
	Status      int       `json:"status"`
	ContentHash string    `json:"content_hash,omitempty"`
	Size        int64     `json:"size"`
	Items       int       `json:"items"`
	BodyStored  bool      `json:"body_stored,omitempty"`
}

// explainVersions is how many recent versions Explain lists.
const explainVersions = 5

// UnknownURL is Explain's error for a URL the frontier has never queued:
// what little is known about it. It wraps store.ErrUnknownURL.
type UnknownURL struct {
	URL          string        `json:"url"`
	Inbound      []InboundLink `json:"inbound"`       // stored pages that link to it
	InboundTotal int           `json:"inbound_total"` // how many there are
	Similar      []string      `json:"similar"`       // known URLs with the longest common prefix
}

func (e *UnknownURL) Error() string { return fmt.Sprintf("explain %s: %v", e.URL, store.ErrUnknownURL) }
func (e *UnknownURL) Unwrap() error { return store.ErrUnknownURL }

// Explain tells everything db knows about rawURL under cfg. The URL is
// looked up in its canonical form under cfg; when that is unknown, as
// given (the database may have been crawled with other canonicalization
// settings). A URL the frontier does not hold is an *UnknownURL error; an
// argument that is not a fetchable URL an error wrapping ErrNotFetchable.
func Explain(ctx context.Context, db ExplainReader, cfg *Config, rawURL string, o ExplainOptions) (*Explanation, error) {
	norm, err := cfg.normalizer()
	if err != nil {
		return nil, err
	}
	arg := strings.TrimSpace(rawURL)
	canon, err := norm.CanonicalString(arg)
	if err != nil {
		return nil, fmt.Errorf("%q is %w: %v", arg, ErrNotFetchable, err)
	}
	info, err := db.Explain(ctx, canon, o.Links)
	if errors.Is(err, store.ErrUnknownURL) && canon != arg {
		if alt, altErr := db.Explain(ctx, arg, o.Links); altErr == nil {
			info, err = alt, nil
		}
	}
	if errors.Is(err, store.ErrUnknownURL) {
		return nil, unknownURL(ctx, db, canon, o.Links)
	}
	if err != nil {
		return nil, err
	}
	e := buildExplanation(info, explainContext{
		Arg: arg, Agent: robots.ProductToken(cfg.Fetch.UserAgent), ObeyRobots: cfg.Politeness.ObeyRobots,
		ConfigKnown: o.ConfigKnown, Now: o.Now,
	})
	if o.ConfigKnown && e.Host != nil {
		e.Host.applyConfig(cfg.Politeness, cfg.Politeness.hostOverrides())
	}
	if e.Revisit != nil {
		vs, n, err := db.Versions(ctx, info.URL, explainVersions)
		if err != nil {
			return nil, err
		}
		e.Revisit.Versions = n
		for _, v := range vs {
			e.Revisit.Recent = append(e.Revisit.Recent, Version{ID: v.ID, FetchedAt: v.FetchedAt, Status: v.Status,
				ContentHash: v.ContentHash, Size: v.Size, Items: v.Items, BodyStored: v.BodyStored})
		}
	}
	return &e, nil
}

// unknownURL gathers what is known about a URL not in the frontier: the
// stored pages that link to it, and URLs that are in the frontier.
func unknownURL(ctx context.Context, db ExplainReader, canon string, links int) error {
	u := &UnknownURL{URL: canon, Inbound: []InboundLink{}}
	in, total, err := db.Inbound(ctx, canon, links)
	if err != nil {
		return err
	}
	for _, l := range in {
		u.Inbound = append(u.Inbound, InboundLink{From: l.From, Anchor: l.Anchor, Nofollow: l.Nofollow})
	}
	u.InboundTotal = total
	if u.Similar, err = db.SimilarURLs(ctx, canon, 10); err != nil {
		return err
	}
	if u.Similar == nil {
		u.Similar = []string{}
	}
	return u
}

// explainContext is what an explanation needs besides the database row.
type explainContext struct {
	Arg         string // the URL as the user gave it
	Agent       string // robots.txt product token
	ObeyRobots  bool
	ConfigKnown bool // false when the defaults stand in for a config file
	Now         time.Time
}

func buildExplanation(u *store.URLInfo, c explainContext) Explanation {
	e := Explanation{
		URL: u.URL, State: u.State, Reason: u.Reason, Source: u.Source, Depth: u.Depth,
		Discovered: u.DiscoveredAt, Updated: u.UpdatedAt, Attempts: u.Attempts, Claims: u.Claims, Worker: u.Worker,
		Redirects: u.Redirects, Status: u.Status, LastError: u.LastError, Parent: u.ParentURL,
		ParentAnchor: u.ParentAnchor, InboundTotal: u.InboundTotal, Now: c.Now, ConfigKnown: c.ConfigKnown,
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
		e.Inbound = append(e.Inbound, InboundLink{From: l.From, Anchor: l.Anchor, Nofollow: l.Nofollow})
	}
	e.Robots = judgeRobots(u, c)
	if u.Host != nil {
		h := newHostPace(u.Host, c.Now)
		e.Host = &h
	}
	if p := u.Page; p != nil {
		e.Page = &PageSummary{Status: p.Status, ContentType: p.ContentType, Encoding: p.Encoding, Size: p.Size,
			Truncated: p.Truncated, BodyStored: p.BodyStored, Title: p.Title, Canonical: p.Canonical,
			MetaRobots: p.MetaRobots, FetchedAt: p.FetchedAt, DurationMS: p.Duration.Milliseconds(),
			Links: p.Links, Items: p.Items}
		if p.FinalURL != u.URL {
			e.Page.FinalURL = p.FinalURL
		}
		if p.HasSimHash {
			e.Page.SimHash = fmt.Sprintf("%016x", p.SimHash)
		}
		e.Page.NearDuplicateOf, e.Page.NearReason = p.NearDuplicateOf, p.NearReason
	}
	if !u.NextFetchAt.IsZero() || u.Revisits > 0 {
		r := &RevisitInfo{IntervalMS: u.RevisitInterval.Milliseconds(), Revisits: u.Revisits, Unchanged: u.Unchanged,
			NotModified: u.NotModified}
		if t := u.NextFetchAt; !t.IsZero() && t.After(c.Now) {
			r.NextDue = &t
		} else if !t.IsZero() {
			r.NextDue, r.DueNow = &t, true
		}
		e.Revisit = r
	}
	return e
}

// judgeRobots tests the URL against the host's stored robots.txt the way
// the crawler does before each fetch.
func judgeRobots(u *store.URLInfo, c explainContext) RobotsVerdict {
	v := RobotsVerdict{Agent: c.Agent}
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
	r, avail := robots.FromResponse(h.RobotsStatus, h.RobotsBody)
	switch avail {
	case robots.Available:
		pu, err := url.Parse(u.URL)
		if err != nil {
			v.Verdict, v.Detail = "unknown", "unparsable URL: "+err.Error()
			return v
		}
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
	case robots.Unrestricted:
		v.Verdict, v.Detail = "allowed", fmt.Sprintf("robots.txt answered HTTP %d: everything is allowed (RFC 9309)", h.RobotsStatus)
	default:
		why := fmt.Sprintf("HTTP %d", h.RobotsStatus)
		if h.RobotsStatus == 0 || h.RobotsError != "" {
			why = h.RobotsError
		}
		v.Verdict = "unavailable"
		v.Detail = fmt.Sprintf("robots.txt unavailable (%s, %d failed attempts): everything is disallowed until it can be fetched",
			why, h.RobotsFailures)
	}
	return v
}
