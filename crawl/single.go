package crawl

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// ErrRobotsDisallowed is wrapped by FetchOne's error when robots.txt
// forbids a URL (or the site's robots.txt is unreachable, which RFC 9309
// treats as forbidding everything).
var ErrRobotsDisallowed = errors.New("disallowed by robots.txt")

// Fetched is one page fetched by FetchOne.
type Fetched struct {
	URL         string   // final canonical URL, after redirects
	Redirects   []string // the URLs that redirected, in order
	Status      int
	ContentType string // as sent, charset included
	Encoding    string // charset the body was decoded from
	Body        []byte // decoded to UTF-8
	Truncated   bool   // the body was cut at limits.max_body_size
}

// CanonicalURL returns the canonical form of rawURL under cfg's
// canonicalization settings: the form the crawl stores in frontier.url and
// pages.url.
func CanonicalURL(cfg *Config, rawURL string) (string, error) {
	norm, err := cfg.normalizer()
	if err != nil {
		return "", err
	}
	c, err := norm.CanonicalString(strings.TrimSpace(rawURL))
	if err != nil {
		return "", fmt.Errorf("canonical form of %q: %w", rawURL, err)
	}
	return c, nil
}

// normalizer returns the URL canonicalizer of cfg's canonicalization settings.
func (c *Config) normalizer() (*urlnorm.Normalizer, error) {
	norm, err := urlnorm.New(urlnorm.Options{StripParams: c.Canonical.StripParams, SortQuery: c.Canonical.SortQuery})
	if err != nil {
		return nil, fmt.Errorf("canonicalization: %w", err)
	}
	return norm, nil
}

// ParsesType reports whether the crawl parses a response with this
// Content-Type as HTML (fetch.parse_types; a missing type is sniffed as HTML).
func (c *Config) ParsesType(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	for _, t := range c.Fetch.ParseTypes {
		if strings.EqualFold(t, mt) {
			return true
		}
	}
	return false
}

// FetchOne fetches one URL as the crawl would, for testing extraction rules:
// through the crawl's fetcher (user agent, timeouts, body cap, address
// guard), after checking robots.txt, with redirects followed up to
// limits.max_redirects and every hop checked against robots.txt again.
// Requests to one host are spaced by politeness.rate and the site's
// Crawl-delay. It returns an error when no final response was received or
// robots.txt forbids a URL on the way (wrapping ErrRobotsDisallowed, naming
// the rule); a final 4xx or 5xx is returned as a Fetched with its status.
func FetchOne(ctx context.Context, cfg *Config, rawURL string) (*Fetched, error) {
	target, err := CanonicalURL(cfg, rawURL)
	if err != nil {
		return nil, err
	}
	f, err := newFetcher(cfg, newAddrPolicy(cfg.Fetch.AllowAddresses))
	if err != nil {
		return nil, err
	}
	defer f.close()
	s := newSingle(cfg, f.newClient())
	out := &Fetched{}
	for hop := 0; ; hop++ {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", target, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("fetch %s: only http and https URLs can be fetched", target)
		}
		if err := s.allowed(ctx, u); err != nil {
			return nil, err
		}
		r, err := s.get(ctx, origin(u), target, int64(cfg.Limits.MaxBodySize))
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", target, err)
		}
		if r.status >= 300 && r.status < 400 {
			if loc, ok := location(u, r.header); ok {
				next, err := CanonicalURL(cfg, loc.String())
				if err != nil {
					return nil, fmt.Errorf("fetch %s: HTTP %d to an invalid URL: %w", target, r.status, err)
				}
				if hop >= cfg.Limits.MaxRedirects {
					return nil, fmt.Errorf("fetch %s: more than limits.max_redirects (%d) redirects; the last pointed to %s",
						rawURL, cfg.Limits.MaxRedirects, next)
				}
				if next == target {
					return nil, fmt.Errorf("fetch %s: HTTP %d redirect loop to itself", target, r.status)
				}
				out.Redirects = append(out.Redirects, target)
				target = next
				continue
			}
		}
		body, enc := parse.ToUTF8(r.body, r.contentType)
		out.URL, out.Status, out.ContentType = target, r.status, r.contentType
		out.Encoding, out.Body, out.Truncated = enc, body, r.truncated
		return out, nil
	}
}

// single is the state of one FetchOne call: robots.txt and the time of the
// last request per origin.
type single struct {
	cfg    *Config
	cl     *client
	agent  string
	robots map[string]*robots.Robots // by origin
	last   map[string]time.Time      // by origin: start of the last request
	delay  map[string]time.Duration  // by origin: Crawl-delay
	watch  singleWatcher             // nil, or told of each request
}

// newSingle prepares the state of fetches of single URLs over cl.
func newSingle(cfg *Config, cl *client) *single {
	return &single{cfg: cfg, cl: cl, agent: robots.ProductToken(cfg.Fetch.UserAgent),
		robots: map[string]*robots.Robots{}, last: map[string]time.Time{}, delay: map[string]time.Duration{}}
}

// singleWatcher is told of every request a single makes ("crawler fetch"
// shows each one, with its timings).
type singleWatcher interface {
	// started returns the context to send the request to target with.
	started(ctx context.Context, target string) context.Context
	finished(target string, r *response, err error)
}

// allowed checks u against its host's robots.txt, fetching that first.
func (s *single) allowed(ctx context.Context, u *url.URL) error {
	if !s.cfg.Politeness.ObeyRobots {
		return nil
	}
	o := origin(u)
	r, ok := s.robots[o]
	if !ok {
		var err error
		if r, err = s.fetchRobots(ctx, o); err != nil {
			return err
		}
		s.robots[o] = r
		if d, ok := r.CrawlDelay(s.agent); ok {
			s.delay[o] = min(d, s.cfg.Politeness.MaxCrawlDelay)
		}
	}
	v := r.Test(s.agent, u.RequestURI())
	if v.Allowed {
		return nil
	}
	if v.Rule == "" {
		return fmt.Errorf("fetch %s: %w", u, ErrRobotsDisallowed)
	}
	return fmt.Errorf("fetch %s: %w: %q (%s/robots.txt line %d, user-agent group %q)", u, ErrRobotsDisallowed, v.Rule, o, v.Line, v.Group)
}

// fetchRobots reads an origin's robots.txt as RFC 9309 says (see
// robots.FromResponse); a robots.txt that is unreachable, which forbids
// every URL until it can be fetched, is an error for FetchOne.
func (s *single) fetchRobots(ctx context.Context, o string) (*robots.Robots, error) {
	target := o + "/robots.txt"
	for hop := 0; ; hop++ {
		r, err := s.get(ctx, o, target, robotsMaxBytes)
		if err != nil {
			return nil, fmt.Errorf("fetch %s/robots.txt: %w", o, err)
		}
		if next, ok := nextRobotsHop(target, r, hop); ok {
			target = next
			continue
		}
		rules, avail := robots.FromResponse(r.status, r.body)
		if avail == robots.Unreachable {
			return nil, fmt.Errorf("fetch %s/robots.txt: HTTP %d: %w (RFC 9309: an unreachable robots.txt disallows everything; try again later)",
				o, r.status, ErrRobotsDisallowed)
		}
		return rules, nil
	}
}

// get fetches target after waiting for its origin's turn.
func (s *single) get(ctx context.Context, o, target string, maxBody int64) (*response, error) {
	gap := s.delay[o]
	if rate := s.cfg.Politeness.Rate; rate > 0 {
		gap = max(gap, time.Duration(float64(time.Second)/rate))
	}
	if last, ok := s.last[o]; ok && gap > 0 {
		if wait := time.Until(last.Add(gap)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
	}
	s.last[o] = time.Now()
	if s.watch == nil {
		return s.cl.get(ctx, target, maxBody, s.cfg.timeouts())
	}
	r, err := s.cl.get(s.watch.started(ctx, target), target, maxBody, s.cfg.timeouts())
	s.watch.finished(target, r, err)
	return r, err
}

// RulesPage is a page to try extraction rules on, as "crawler extract"
// does.
type RulesPage struct {
	URL         string
	Source      string // "database" or "fetched"
	Status      int
	FetchedAt   time.Time // when the crawl fetched a stored page
	Body        []byte
	ContentType string // the Content-Type to decode Body by (ExtractItems)
	Truncated   bool   // a fetched body was cut at limits.max_body_size
}

// PageForRules returns the page at rawURL to try extraction rules on: the
// body the crawl stored in db, unless db is nil or fresh, else the page
// fetched as the crawl would fetch it (FetchOne). Rules are applied only to
// 2xx pages, so another status is an error.
func PageForRules(ctx context.Context, cfg *Config, db PageReader, rawURL string, fresh bool) (*RulesPage, error) {
	canon, err := CanonicalURL(cfg, rawURL)
	if err != nil {
		return nil, err
	}
	if db != nil && !fresh {
		p, err := db.PageByURL(ctx, canon)
		switch {
		case err == nil && p.Body != nil:
			body, err := store.DecodeBody(p.Body, p.BodyEncoding)
			if err != nil {
				return nil, fmt.Errorf("stored body of %s: %w", canon, err)
			}
			return &RulesPage{URL: p.URL, Source: "database", Status: p.Status, FetchedAt: p.FetchedAt, Body: body,
				ContentType: p.ContentType}, nil
		case err != nil && !errors.Is(err, store.ErrNoPage):
			return nil, err
		}
	}
	f, err := FetchOne(ctx, cfg, rawURL)
	if errors.Is(err, ErrBlockedAddress) {
		return nil, fmt.Errorf("%w (%s)", err, ReasonHint("blocked address", rawURL))
	}
	if err != nil {
		return nil, err
	}
	if f.Status < 200 || f.Status > 299 {
		return nil, fmt.Errorf("fetch %s: HTTP %d: the crawl extracts items only from 2xx pages", f.URL, f.Status)
	}
	// f.Body is UTF-8 already; say so, so that its charset is not decoded twice.
	return &RulesPage{URL: f.URL, Source: "fetched", Status: f.Status, Body: f.Body, ContentType: mediaTypeUTF8(f.ContentType),
		Truncated: f.Truncated}, nil
}

// mediaTypeUTF8 replaces a Content-Type's charset with utf-8.
func mediaTypeUTF8(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	if mt == "" {
		mt = "text/html"
	}
	return mt + "; charset=utf-8"
}

// ExtractItems parses an HTML body and applies rules to it, as the crawl
// does for pageURL. The body is decoded to UTF-8 first: its charset comes
// from a byte order mark, contentType's charset, a <meta> declaration or
// sniffing, in that order; pass "text/html; charset=utf-8" for a body that
// is already UTF-8.
func ExtractItems(rules *parse.Rules, pageURL string, body []byte, contentType string) ([]parse.Item, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("extract items of %s: %w", pageURL, err)
	}
	utf8Body, _ := parse.ToUTF8(body, contentType)
	doc, err := parse.HTML(u, utf8Body, parse.Options{Tree: true})
	if err != nil {
		return nil, fmt.Errorf("extract items: %w", err)
	}
	return rules.Extract(doc), nil
}
