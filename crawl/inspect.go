package crawl

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Inspection is one URL exactly as the crawl sees it, fetched without a
// database ("crawler fetch"): the decisions the crawl would take, each
// reached by the function the crawl takes it with.
type Inspection struct {
	Given string `json:"given"` // the URL as given
	URL   string `json:"url"`   // its canonical form, the frontier's key
	// Scope is why the crawl would skip the URL as a seed, "" when it is
	// in scope; ScopeFrom says what the scope was built from.
	Scope     string `json:"scope,omitempty"`
	ScopeHint string `json:"scope_hint,omitempty"`
	ScopeFrom string `json:"scope_from"`
	// Robots is the robots.txt verdict on the last URL requested (or
	// refused); RobotsTxt the robots.txt it was read from, when one was.
	Robots     RobotsVerdict `json:"robots"`
	RobotsTxt  string        `json:"robots_txt,omitempty"`
	CrawlDelay string        `json:"crawl_delay,omitempty"`
	Sitemaps   []string      `json:"sitemaps,omitempty"` // named by the host's robots.txt
	// Requests are every request made, in order: robots.txt first, then
	// the URL and each redirect hop.
	Requests []InspectRequest `json:"requests"`
	// Stopped says why the crawl would not fetch the URL or follow a
	// redirect, when it would not; then Page is nil or a redirect.
	Stopped string       `json:"stopped,omitempty"`
	Page    *InspectPage `json:"page,omitempty"` // the last response
}

// InspectRequest is one request and its answer.
type InspectRequest struct {
	URL      string `json:"url"`
	Robots   bool   `json:"robots"` // a robots.txt request
	Status   int    `json:"status,omitempty"`
	Error    string `json:"error,omitempty"`
	Location string `json:"location,omitempty"` // where a redirect points, canonical
	// Redirect is what the crawl would do with a redirect: "followed", or
	// why not.
	Redirect string `json:"redirect,omitempty"`
	// Via is the proxy the request went through (scheme://host:port,
	// never its credentials), "" when it went directly.
	Via     string  `json:"via,omitempty"`
	Timings Timings `json:"timings"`
}

// Timings are the phases of one request as net/http/httptrace reports
// them; a phase that did not happen (a reused connection, plain HTTP) is 0.
type Timings struct {
	DNS     time.Duration `json:"dns_ns"`
	Connect time.Duration `json:"connect_ns"`
	TLS     time.Duration `json:"tls_ns"`
	Headers time.Duration `json:"headers_ns"` // from the request written (or started) to the first response byte
	Body    time.Duration `json:"body_ns"`    // from the first response byte to the end of the body
	Total   time.Duration `json:"total_ns"`
	Reused  bool          `json:"reused"` // the request went on a kept-alive connection
}

// InspectPage is the final response and what the crawl makes of it.
type InspectPage struct {
	URL           string            `json:"url"`
	Status        int               `json:"status"`
	Headers       map[string]string `json:"headers"`
	ContentType   string            `json:"content_type"`
	Decoded       string            `json:"content_encoding,omitempty"` // gzip, br or deflate, decoded by the crawler
	Size          int               `json:"size"`                       // decoded bytes kept
	Truncated     bool              `json:"truncated"`
	Parsed        bool              `json:"parsed"` // HTML the crawl parses (fetch.parse_types)
	Charset       string            `json:"charset,omitempty"`
	CharsetSource string            `json:"charset_source,omitempty"`
	Title         string            `json:"title,omitempty"`
	Description   string            `json:"description,omitempty"`
	Canonical     string            `json:"canonical,omitempty"`
	MetaRobots    string            `json:"meta_robots,omitempty"`
	XRobotsTag    string            `json:"x_robots_tag,omitempty"`
	Lang          string            `json:"lang,omitempty"`
	// State and Reason are what the crawl would record for the URL.
	State  string `json:"state"`
	Reason string `json:"reason"`
	// Retry says the crawl would try again later, and why.
	Retry string        `json:"retry,omitempty"`
	Links []InspectLink `json:"links"`
	Items []store.Item  `json:"items"`
	Body  string        `json:"body,omitempty"` // decoded to UTF-8, with InspectOptions.Body
}

// InspectLink is a link of the page and whether the crawl would follow it.
type InspectLink struct {
	URL      string `json:"url"` // canonical
	Anchor   string `json:"anchor,omitempty"`
	Nofollow bool   `json:"nofollow,omitempty"`
	Follow   bool   `json:"follow"`
	Why      string `json:"why,omitempty"` // why not, or a caveat
	Depth    int    `json:"depth"`
}

// InspectOptions tune Inspect.
type InspectOptions struct {
	Body bool // keep the decoded body
	Log  *slog.Logger
}

// Inspect fetches rawURL as the crawl would, without a database: scope,
// robots.txt (fetched first; requests to a host are spaced by its rate
// and Crawl-delay), the address guard, every redirect hop checked as the
// crawl checks it, then the page parsed, its links judged and the rules
// applied. The URL is judged as a seed of cfg: a config without seeds (or
// scope.hosts) has the URL's host as its scope. It returns what it found
// with an error when no final answer was received: a blocked address
// (naming fetch.allow_addresses), a robots.txt that forbids the URL
// (wrapping ErrRobotsDisallowed), a network failure.
func Inspect(ctx context.Context, cfg *Config, rawURL string, o InspectOptions) (*Inspection, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	c := *cfg
	ins := &Inspection{Given: rawURL, ScopeFrom: "the config's seeds"}
	switch {
	case len(c.Scope.Hosts) > 0:
		ins.ScopeFrom = "scope.hosts"
	case len(c.URLs) > 0:
		ins.ScopeFrom = "the config's urls"
	case len(c.Seeds) == 0:
		c.Seeds = []string{rawURL}
		ins.ScopeFrom = "the URL itself, as the config has no seeds"
	}
	canon, err := CanonicalURL(&c, rawURL)
	if err != nil {
		return ins, err
	}
	ins.URL = canon
	u, err := url.Parse(canon)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ins, fmt.Errorf("fetch %s: only http and https URLs can be fetched", rawURL)
	}
	e, err := New(&c, nil, o.Log)
	if err != nil {
		return ins, err
	}
	defer e.fetch.close()
	seed, err := e.seedRow(rawURL)
	if err != nil {
		return ins, err
	}
	if why := seed.Reason; seed.State == store.StateSkipped {
		ins.Scope, ins.ScopeHint = why, ReasonHint(why, canon)
		if what, ok := strings.CutPrefix(why, "blocked address: "); ok {
			ins.Stopped = why
			return ins, fmt.Errorf("fetch %s: %w: %s (%s)", canon, ErrBlockedAddress, what, ins.ScopeHint)
		}
	}
	codec, err := store.NewBodyCodec(store.BodiesNone) // nothing is stored: no compression
	if err != nil {
		return ins, err
	}
	defer codec.Close()
	w := &worker{e: e, body: codec.Encoder()}
	rec := &requestRecorder{ins: ins, bodies: map[string]*response{}}
	s := newSingle(&c, e.fetch.newClient())
	s.watch = rec
	lease := store.Lease{URL: canon, Source: "seed"}
	for {
		u, _ := url.Parse(lease.URL)
		allowErr := rec.allowed(ctx, s, u)
		ins.Robots = rec.verdict(&c, s, u)
		if b := rec.bodies[origin(u)]; b != nil && b.status >= 200 && b.status < 300 {
			ins.RobotsTxt = string(b.body)
		}
		if rules := s.robots[origin(u)]; rules != nil {
			ins.Sitemaps = rules.Sitemaps()
			if d := s.delay[origin(u)]; d > 0 {
				ins.CrawlDelay = d.String()
			}
		}
		if allowErr != nil {
			ins.Stopped = allowErr.Error()
			return ins, allowErr
		}
		r, err := s.get(ctx, origin(u), lease.URL, int64(c.Limits.MaxBodySize))
		if err != nil {
			if errors.Is(err, ErrBlockedAddress) {
				err = fmt.Errorf("%w (%s)", err, ReasonHint("blocked address", lease.URL))
			}
			ins.Stopped = err.Error()
			return ins, fmt.Errorf("fetch %s: %w", lease.URL, err)
		}
		out := store.Outcome{Lease: lease, Attempted: true}
		w.record(ctx, &out, r)
		req := &ins.Requests[len(ins.Requests)-1]
		if r.status >= 300 && r.status < 400 && out.Page != nil && out.Page.FinalURL != lease.URL {
			req.Location = out.Page.FinalURL
		}
		next, stop := redirectVerdict(&out)
		if req.Location != "" || stop != "" {
			req.Redirect = stop
			if stop == "" {
				req.Redirect = "followed"
			}
		}
		if next != nil {
			lease = store.Lease{URL: next.URL, Depth: next.Depth, Chain: next.Chain, Redirects: next.Redirects,
				Source: next.Source}
			continue
		}
		if stop != "" {
			ins.Stopped = stop
		}
		ins.Page = inspectPage(e, s, u, r, &out, o.Body)
		return ins, nil
	}
}

// redirectVerdict returns the frontier row a redirect recorded in out
// leads to when the crawl would follow it, or why it would not ("" when
// out is no redirect).
func redirectVerdict(out *store.Outcome) (*store.NewURL, string) {
	p := out.Page
	if p == nil || p.Status < 300 || p.Status >= 400 {
		return nil, ""
	}
	if out.State == store.StateFailed {
		return nil, "the crawl records the redirect as failed: " + out.Reason
	}
	for i, n := range out.Discovered {
		if n.Source != "redirect" {
			continue
		}
		if n.State != store.StateQueued {
			return nil, "the crawl would not follow it: " + n.Reason
		}
		return &out.Discovered[i], ""
	}
	return nil, ""
}

// inspectPage describes the final response r of u: its facts, what the
// crawl would record, the links it would follow and the items the rules
// extract (from out, the crawl's own record of it).
func inspectPage(e *Engine, s *single, u *url.URL, r *response, out *store.Outcome, keepBody bool) *InspectPage {
	p := &InspectPage{URL: u.String(), Status: r.status, ContentType: r.contentType, Decoded: r.encoding, Size: len(r.body),
		Truncated: r.truncated, State: out.State, Reason: out.Reason, Headers: map[string]string{}, Links: []InspectLink{},
		Items: []store.Item{}}
	for k, v := range r.header {
		p.Headers[k] = strings.Join(v, ", ")
	}
	if r.contentType != "" {
		p.Headers["Content-Type"] = r.contentType
	}
	p.XRobotsTag = strings.Join(r.header.Values("X-Robots-Tag"), ", ")
	switch class := classifyStatus(r.status); class {
	case classTransient, classThrottled:
		p.Retry = fmt.Sprintf("HTTP %d: the crawl would try again later, up to fetch.max_retries (%d) times", r.status,
			e.cfg.Fetch.MaxRetries)
		if class == classThrottled {
			p.Retry += ", and slow down for the whole host"
		}
	}
	mt, _, _ := mime.ParseMediaType(r.contentType)
	p.Parsed = r.status < 300 && e.cfg.ParsesType(strings.ToLower(mt))
	body, enc := parse.ToUTF8(r.body, r.contentType)
	if p.Parsed || keepBody {
		p.Charset, p.CharsetSource = enc, parse.CharsetSource(r.body, r.contentType)
	}
	if keepBody {
		p.Body = string(body)
	}
	if !p.Parsed {
		return p
	}
	metaNofollow := false
	if doc, err := parse.HTML(u, body, parse.Options{}); err == nil {
		p.Title, p.Description, p.Canonical = doc.Title, doc.Description, doc.Canonical
		p.MetaRobots, p.Lang = doc.MetaRobots, doc.Lang
		metaNofollow = doc.NoFollow()
	}
	_, hdrNofollow := parse.RobotsDirectives(r.header.Values("X-Robots-Tag"), e.agent)
	if out.Page != nil {
		p.Items = append(p.Items, out.Page.Items...)
	}
	found := map[string]store.NewURL{}
	for _, n := range out.Discovered {
		if n.Source == "link" {
			found[n.URL] = n
		}
	}
	rules := s.robots[origin(u)]
	for _, l := range out.Links {
		il := InspectLink{URL: l.URL, Anchor: l.Anchor, Nofollow: l.Nofollow}
		n, ok := found[l.URL]
		switch {
		case l.URL == p.URL && ok:
			il.Depth, il.Why = n.Depth, "the page itself: already in the frontier"
		case !ok:
			il.Why = notFollowed(e, hdrNofollow, metaNofollow, l)
		case n.State != store.StateQueued:
			il.Why, il.Depth = n.Reason, n.Depth
			if hint := ReasonHint(n.Reason, n.URL); hint != "" {
				il.Why += " (" + hint + ")"
			}
		default:
			il.Follow, il.Depth = true, n.Depth
			lu, err := url.Parse(n.URL)
			switch {
			case !e.cfg.Politeness.ObeyRobots:
			case err != nil || origin(lu) != origin(u):
				il.Why = "robots.txt of that host not checked"
			case rules != nil:
				if why := e.preflight(&host{robots: rules}, store.Lease{URL: n.URL}); why != "" {
					il.Follow, il.Why = false, why
				}
			}
		}
		p.Links = append(p.Links, il)
	}
	return p
}

// notFollowed says why the crawl did not take up a link of the page: the
// conditions under which the worker's links leaves a link out.
func notFollowed(e *Engine, hdrNofollow, metaNofollow bool, l store.Link) string {
	respect := e.cfg.Politeness.RespectNofollow
	switch {
	case e.listMode:
		return "URL-list mode (urls:) follows no links"
	case respect && hdrNofollow:
		return "the page's X-Robots-Tag says nofollow (politeness.respect_nofollow)"
	case respect && metaNofollow:
		return "the page's meta robots says nofollow (politeness.respect_nofollow)"
	case respect && l.Nofollow:
		return "rel=nofollow, ugc or sponsored (politeness.respect_nofollow)"
	}
	return "not followed"
}

// requestRecorder is the single's watcher of Inspect: it records each
// request with its timings.
type requestRecorder struct {
	ins    *Inspection
	robots string // the origin whose robots.txt the requests now are for, "" for pages
	trace  *phaseTrace
	bodies map[string]*response // by origin: the last robots.txt response
}

// allowed runs s.allowed on u, noting its robots.txt requests as such.
func (rr *requestRecorder) allowed(ctx context.Context, s *single, u *url.URL) error {
	rr.robots = origin(u)
	defer func() { rr.robots = "" }()
	return s.allowed(ctx, u)
}

func (rr *requestRecorder) started(ctx context.Context, target string) context.Context {
	rr.trace = &phaseTrace{start: time.Now()}
	return httptrace.WithClientTrace(ctx, rr.trace.clientTrace())
}

func (rr *requestRecorder) finished(target string, r *response, err error) {
	req := InspectRequest{URL: target, Robots: rr.robots != "", Timings: rr.trace.timings(time.Now())}
	if err != nil {
		req.Error = err.Error()
	} else {
		req.Status = r.status
		if r.via != "direct" {
			req.Via = r.via
		}
		if rr.robots != "" {
			rr.bodies[rr.robots] = r
		}
	}
	rr.ins.Requests = append(rr.ins.Requests, req)
}

// verdict is the robots.txt verdict on u after s.allowed ran: the
// explanation "crawler explain" gives, from the robots.txt just fetched.
func (rr *requestRecorder) verdict(cfg *Config, s *single, u *url.URL) RobotsVerdict {
	o := origin(u)
	ctx := explainContext{Agent: s.agent, ObeyRobots: cfg.Politeness.ObeyRobots, Now: time.Now()}
	info := &store.URLInfo{URL: u.String(), Host: &store.HostInfo{Origin: o}}
	if b := rr.bodies[o]; s.robots[o] != nil && b != nil {
		info.Host.RobotsFetched, info.Host.RobotsStatus, info.Host.RobotsBody = true, b.status, b.body
		info.Host.RobotsFetchedAt = ctx.Now
	} else if cfg.Politeness.ObeyRobots {
		v := RobotsVerdict{Agent: s.agent, Verdict: "unavailable",
			Detail: "robots.txt could not be fetched: RFC 9309 then disallows everything until it can"}
		if len(rr.ins.Requests) > 0 {
			if last := rr.ins.Requests[len(rr.ins.Requests)-1]; last.Robots && last.Error != "" {
				v.Detail = "robots.txt could not be fetched (" + last.Error + "): everything is disallowed until it can"
			} else if last.Robots {
				v.Detail = fmt.Sprintf("robots.txt answered HTTP %d: everything is disallowed until it can be fetched", last.Status)
			}
		}
		return v
	}
	v := judgeRobots(info, ctx)
	v.Record = ""
	return v
}

// phaseTrace collects the times of one request's phases.
type phaseTrace struct {
	start, dnsStart, dnsDone, connStart, connDone, tlsStart, tlsDone, wrote, firstByte time.Time
	reused                                                                             bool
}

func (p *phaseTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:             func(httptrace.DNSStartInfo) { p.dnsStart = time.Now() },
		DNSDone:              func(httptrace.DNSDoneInfo) { p.dnsDone = time.Now() },
		ConnectStart:         func(string, string) { p.connStart = time.Now() },
		ConnectDone:          func(string, string, error) { p.connDone = time.Now() },
		TLSHandshakeStart:    func() { p.tlsStart = time.Now() },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { p.tlsDone = time.Now() },
		GotConn:              func(i httptrace.GotConnInfo) { p.reused = i.Reused },
		WroteRequest:         func(httptrace.WroteRequestInfo) { p.wrote = time.Now() },
		GotFirstResponseByte: func() { p.firstByte = time.Now() },
	}
}

// timings turns the phase times into durations, the request ending at end.
func (p *phaseTrace) timings(end time.Time) Timings {
	span := func(a, b time.Time) time.Duration {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return 0
		}
		return b.Sub(a)
	}
	t := Timings{DNS: span(p.dnsStart, p.dnsDone), Connect: span(p.connStart, p.connDone), TLS: span(p.tlsStart, p.tlsDone),
		Total: span(p.start, end), Reused: p.reused}
	from := p.wrote
	if from.IsZero() {
		from = p.start
	}
	t.Headers = span(from, p.firstByte)
	t.Body = span(p.firstByte, end)
	return t
}

// HeaderNames returns the names of h in a stable order, for printing.
func HeaderNames(h map[string]string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		return strings.Compare(http.CanonicalHeaderKey(a), http.CanonicalHeaderKey(b))
	})
	return names
}
