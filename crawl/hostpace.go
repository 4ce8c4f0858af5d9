package crawl

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// HostPace is one host's pace, pause and counts as "crawler hosts",
// "crawler explain" and the service show them. In-flight fetches are not
// stored in the database, so they are not here; Leased counts the URLs a
// crawler has claimed.
type HostPace struct {
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
	Owner        string     `json:"owner,omitempty"` // the worker holding the host's lease
}

// HostPaces returns the pace of each host at now. With a politeness
// configuration (nil when the defaults stand in for the job's), hosts
// whose pace the database does not hold show the configured one.
func HostPaces(hs []store.HostInfo, p *Politeness, now time.Time) []HostPace {
	out := make([]HostPace, len(hs))
	var overrides hostMap[HostOverride]
	if p != nil {
		overrides = p.hostOverrides()
	}
	for i := range hs {
		out[i] = newHostPace(&hs[i], now)
		if p != nil {
			out[i].applyConfig(*p, overrides)
		}
	}
	return out
}

func newHostPace(h *store.HostInfo, now time.Time) HostPace {
	j := HostPace{
		Origin: h.Origin, State: h.State, Reason: h.Reason, DelayMS: h.DelayMS, CrawlDelayMS: h.CrawlDelayMS,
		LatencyMS: h.LatencyMS, BackoffLevel: h.BackoffLevel, Failures: h.Failures, Queued: h.Queued,
		Leased: h.Leased, Pages: h.Pages, Errors: h.Errors, DelaySource: "unknown", Owner: h.Owner,
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
// overrides are p's per-host overrides (p.hostOverrides).
func (j *HostPace) applyConfig(p Politeness, overrides hostMap[HostOverride]) {
	if j.DelaySource != "unknown" {
		return
	}
	r := p.Rate
	if o, ok := overrides.forOrigin(j.Origin); ok && o.Rate > 0 {
		r = o.Rate
	}
	j.DelaySource = "config"
	if r > 0 {
		j.DelayMS = int64(1000 / r)
		j.RatePerSec = &r
	} else {
		j.DelayMS = 0 // unlimited
	}
}

// hostOverrides returns politeness.hosts keyed by canonical host, so that
// an override written Bücher.example, BÜCHER.example. or host:443 applies
// to the origin https://xn--bcher-kva.example. A key that does not parse
// (validation refuses it) is left out.
func (p Politeness) hostOverrides() hostMap[HostOverride] {
	m, _ := newHostMap(p.Hosts)
	return m
}

// forOrigin returns the settings of an origin's host (scheme://host[:port]).
func (m hostMap[V]) forOrigin(origin string) (V, bool) {
	u, err := url.Parse(origin)
	if err != nil {
		var zero V
		return zero, false
	}
	return m.lookup(u)
}

// RateString is the host's request rate for display.
func (j *HostPace) RateString() string {
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

// Summary is a one-line account of the host's pace and pause at now.
func (j *HostPace) Summary(now time.Time) string {
	var b strings.Builder
	b.WriteString(j.State)
	switch {
	case j.DelaySource == "stored":
		fmt.Fprintf(&b, ", %s between requests (%s)", Millis(j.DelayMS), j.RateString())
	case j.DelaySource == "config" && j.RatePerSec != nil:
		fmt.Fprintf(&b, ", %s between requests (%s, as configured)", Millis(j.DelayMS), j.RateString())
	case j.DelaySource == "config":
		b.WriteString(", no rate limit (as configured)")
	default:
		b.WriteString(", pace as configured (pass -c to show it)")
	}
	if j.CrawlDelayMS > 0 {
		fmt.Fprintf(&b, ", Crawl-delay %s", Millis(j.CrawlDelayMS))
	}
	if j.LatencyMS > 0 {
		fmt.Fprintf(&b, ", latency %s", Millis(j.LatencyMS))
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

// Millis formats milliseconds as a short duration: "250ms", "1.5s".
func Millis(ms int64) string {
	if ms < 1000 {
		return strconv.FormatInt(ms, 10) + "ms"
	}
	return (time.Duration(ms) * time.Millisecond).Round(100 * time.Millisecond).String()
}
