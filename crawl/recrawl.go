package crawl

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Recrawl configures revisits: fetching again, when they are due, the URLs
// a crawl has fetched, with conditional requests, and lengthening the
// interval of those that do not change.
type Recrawl struct {
	// Enabled schedules every fetched URL for a revisit and fetches the
	// URLs that are due. Off, a crawl fetches each URL once.
	Enabled bool `yaml:"enabled"`
	// Continuous keeps a run going when nothing is due: it sleeps until
	// the next URL is due, and ends only when stopped (crawler run
	// --continuous, or a job of crawler serve).
	Continuous bool `yaml:"continuous"`
	// Interval is the first revisit interval of a URL; MinInterval and
	// MaxInterval bound every interval.
	Interval    time.Duration `yaml:"interval"`
	MinInterval time.Duration `yaml:"min_interval"`
	MaxInterval time.Duration `yaml:"max_interval"`
	// Adaptive lengthens a URL's interval by Grow (unchanged: interval ×
	// (1 + grow)) and shortens it by Shrink (changed: interval × (1 -
	// shrink)) at each revisit. Off, every interval is Interval.
	Adaptive bool    `yaml:"adaptive"`
	Grow     float64 `yaml:"grow"`
	Shrink   float64 `yaml:"shrink"`
	// KeepVersions keeps the body of every version of a page, not only its
	// hash and the items extracted from it.
	KeepVersions bool `yaml:"keep_versions"`
	// Hosts override the intervals per host (host or host:port), Patterns
	// per URL (the first that matches, before Hosts).
	Hosts    map[string]RevisitOverride `yaml:"hosts"`
	Patterns []RevisitPattern           `yaml:"patterns"`
}

// RevisitOverride replaces some of the intervals for some URLs; a zero
// value keeps the one it overrides.
type RevisitOverride struct {
	Interval    time.Duration `yaml:"interval"`
	MinInterval time.Duration `yaml:"min_interval"`
	MaxInterval time.Duration `yaml:"max_interval"`
}

// RevisitPattern is an override for the URLs that Match matches: a glob on
// the full URL, or a regular expression after "re:", as extraction rules
// write theirs.
type RevisitPattern struct {
	Match           string `yaml:"match"`
	RevisitOverride `yaml:",inline"`
}

// revisitDefaults are the defaults of the recrawl group.
func revisitDefaults() Recrawl {
	return Recrawl{Interval: 24 * time.Hour, MinInterval: time.Hour, MaxInterval: 30 * 24 * time.Hour, Adaptive: true,
		Grow: 0.5, Shrink: 0.5}
}

// revisitPolicy is the intervals that apply to one URL.
type revisitPolicy struct {
	interval, min, max time.Duration
}

func (p revisitPolicy) with(o RevisitOverride) revisitPolicy {
	if o.Interval > 0 {
		p.interval = o.Interval
	}
	if o.MinInterval > 0 {
		p.min = o.MinInterval
	}
	if o.MaxInterval > 0 {
		p.max = o.MaxInterval
	}
	return p
}

func (p revisitPolicy) check() error {
	switch {
	case p.min > p.max:
		return fmt.Errorf("min_interval %v is longer than max_interval %v", p.min, p.max)
	case p.interval < p.min || p.interval > p.max:
		return fmt.Errorf("interval %v is not between min_interval %v and max_interval %v", p.interval, p.min, p.max)
	}
	return nil
}

// revisits is the compiled recrawl group: the intervals of each URL and how
// they adapt.
type revisits struct {
	cfg      Recrawl
	base     revisitPolicy
	patterns []*regexp.Regexp // compiled cfg.Patterns, in order
	hosts    hostMap[RevisitOverride]
}

func newRevisits(cfg Recrawl) (*revisits, error) {
	hosts, err := newHostMap(cfg.Hosts)
	if err != nil {
		return nil, hostKeyBad("recrawl.hosts", err)
	}
	r := &revisits{cfg: cfg, base: revisitPolicy{cfg.Interval, cfg.MinInterval, cfg.MaxInterval}, hosts: hosts}
	for i, p := range cfg.Patterns {
		re, err := parse.CompilePattern(p.Match)
		if err != nil {
			return nil, fmt.Errorf("recrawl.patterns[%d]: %w", i, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// policy returns the intervals of a canonical URL: its pattern's, else its
// host's, over the recrawl group's.
func (r *revisits) policy(rawURL string) revisitPolicy {
	for i, re := range r.patterns {
		if re.MatchString(rawURL) {
			return r.base.with(r.cfg.Patterns[i].RevisitOverride)
		}
	}
	if u, err := url.Parse(rawURL); err == nil {
		if o, ok := r.hosts.lookup(u); ok {
			return r.base.with(o)
		}
	}
	return r.base
}

// first is the first revisit interval of a URL: its policy's interval.
func (r *revisits) first(rawURL string) time.Duration { return r.policy(rawURL).interval }

// interval is the URL's next revisit interval. A URL fetched for the first
// time (or first under recrawl) gets its policy's interval; after that,
// with adaptive intervals, one that did not change waits longer, one that
// changed less long, within its policy's bounds.
func (r *revisits) interval(rawURL string, prev *store.Fetched, changed bool) time.Duration {
	p := r.policy(rawURL)
	iv := p.interval
	if r.cfg.Adaptive && prev != nil && prev.Interval > 0 {
		f := 1 + r.cfg.Grow
		if changed {
			f = 1 - r.cfg.Shrink
		}
		iv = time.Duration(float64(prev.Interval) * f)
	}
	return min(max(iv, p.min), p.max)
}

// schedule sets when the URL of a done or failed outcome is due again:
// its interval from now. A URL whose answer differs from the one recorded
// before (or that was never fetched) counts as changed; a failed fetch
// that recorded nothing counts as unchanged, so a URL that keeps failing
// is tried less and less often. The outcome's page keeps the URL's
// history.
func (r *revisits) schedule(out *store.Outcome, now time.Time) {
	if out.State != store.StateDone && out.State != store.StateFailed {
		return
	}
	if out.Page != nil {
		out.History = &store.History{Bodies: r.cfg.KeepVersions}
	}
	prev := out.Lease.Prev
	changed := out.Page != nil && !out.NotModified && (prev == nil || !prev.Same(out.Page))
	iv := r.interval(out.Lease.URL, prev, changed)
	out.Schedule = &store.Schedule{Interval: iv, At: now.Add(iv)}
}

// validate checks the recrawl group; every interval a URL can get must lie
// within bounds.
func (r Recrawl) validate() error {
	if r.Continuous && !r.Enabled {
		return bad("recrawl.continuous", "needs recrawl.enabled: true (a continuous run waits for revisits)")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"recrawl.interval", r.Interval}, {"recrawl.min_interval", r.MinInterval}, {"recrawl.max_interval", r.MaxInterval}} {
		if d.v <= 0 {
			return bad(d.key, "must be a positive duration such as 24h, got %v", d.v)
		}
	}
	if err := (revisitPolicy{r.Interval, r.MinInterval, r.MaxInterval}).check(); err != nil {
		return bad("recrawl", "%v", err)
	}
	if math.IsNaN(r.Grow) || math.IsInf(r.Grow, 0) || r.Grow < 0 || r.Grow > 10 {
		return bad("recrawl.grow", "must be a number from 0 to 10 (0.5: an unchanged URL waits 1.5 times longer), got %g", r.Grow)
	}
	if math.IsNaN(r.Shrink) || r.Shrink < 0 || r.Shrink >= 1 {
		return bad("recrawl.shrink", "must be a number from 0 to below 1 (0.5: a changed URL waits half as long), got %g", r.Shrink)
	}
	base := revisitPolicy{r.Interval, r.MinInterval, r.MaxInterval}
	if _, err := newHostMap(r.Hosts); err != nil {
		return hostKeyBad("recrawl.hosts", err)
	}
	for h, o := range r.Hosts {
		key := "recrawl.hosts." + h
		if o.Interval < 0 || o.MinInterval < 0 || o.MaxInterval < 0 {
			return bad(key, "intervals must not be negative")
		}
		if err := base.with(o).check(); err != nil {
			return bad(key, "%v", err)
		}
	}
	for i, p := range r.Patterns {
		key := fmt.Sprintf("recrawl.patterns[%d]", i)
		if _, err := parse.CompilePattern(p.Match); err != nil {
			return bad(key+".match", "%v", err)
		}
		if p.Interval < 0 || p.MinInterval < 0 || p.MaxInterval < 0 {
			return bad(key, "intervals must not be negative")
		}
		if err := base.with(p.RevisitOverride).check(); err != nil {
			return bad(key, "%v", err)
		}
	}
	return nil
}

// conditional returns the headers of a conditional request for a URL whose
// recorded response is prev: If-None-Match from its ETag, If-Modified-Since
// from its Last-Modified; nil when it has neither (or no response).
func conditional(prev *store.Fetched) http.Header {
	if prev == nil || (prev.ETag == "" && prev.LastModified == "") {
		return nil
	}
	h := http.Header{}
	if prev.ETag != "" {
		h.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		h.Set("If-Modified-Since", prev.LastModified)
	}
	return h
}
