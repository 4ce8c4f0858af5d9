package crawl

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors. Register them with
// NewMetrics and set Engine.Metrics; a nil *Metrics records nothing.
type Metrics struct {
	Requests      *prometheus.CounterVec // by status class: 2xx, 3xx, 4xx, 5xx
	FetchErrors   *prometheus.CounterVec // fetches with no HTTP response, by reason
	FetchDuration prometheus.Histogram
	Bytes         prometheus.Counter
	Pages         prometheus.Counter
	Outcomes      *prometheus.CounterVec // terminal states recorded, by state
	Hosts         *prometheus.GaugeVec   // active, in_flight, throttled, backing_off
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crawler_http_requests_total", Help: "HTTP responses received, by status class.",
		}, []string{"code"}),
		FetchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crawler_fetch_errors_total", Help: "Fetches that got no HTTP response, by reason.",
		}, []string{"reason"}),
		FetchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "crawler_fetch_duration_seconds", Help: "Time from request to the end of the body.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		Bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crawler_response_bytes_total", Help: "Decoded response body bytes received.",
		}),
		Pages: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "crawler_pages_stored_total", Help: "Page rows committed to the database.",
		}),
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crawler_urls_finished_total", Help: "URLs that reached a state (done, failed, skipped) or were requeued for retry.",
		}, []string{"state"}),
		Hosts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "crawler_hosts", Help: "Hosts in the scheduler, by state.",
		}, []string{"state"}),
	}
	reg.MustRegister(m.Requests, m.FetchErrors, m.FetchDuration, m.Bytes, m.Pages, m.Outcomes, m.Hosts)
	return m
}

func (m *Metrics) response(status int, dur time.Duration, size int) {
	if m == nil {
		return
	}
	m.Requests.WithLabelValues(strconv.Itoa(status/100) + "xx").Inc()
	m.FetchDuration.Observe(dur.Seconds())
	m.Bytes.Add(float64(size))
}

func (m *Metrics) fetchError(reason string) {
	if m == nil {
		return
	}
	m.FetchErrors.WithLabelValues(reason).Inc()
}

// fetchClasses name the groups of fetches that got no HTTP response, in
// the order they are shown.
var fetchClasses = [...]string{"timeout", "refused", "reset", "dns", "unreachable", "blocked", "other"}

// fetchClass groups a reason classifyErr gives into one of fetchClasses.
func fetchClass(reason string) int {
	reason = strings.TrimPrefix(reason, "proxy: ") // counted by what happened on the way through the proxy
	switch {
	case reason == "timeout":
		return 0
	case reason == "connection refused":
		return 1
	case reason == "connection reset":
		return 2
	case strings.HasPrefix(reason, "dns"):
		return 3
	case reason == "host unreachable":
		return 4
	case reason == "blocked address":
		return 5
	}
	return len(fetchClasses) - 1
}

// ErrorClasses count a run's failed requests by class: responses with an
// HTTP error status, and fetches that got no response, by cause.
type ErrorClasses struct {
	HTTP4xx, HTTP5xx int64
	Fetch            [len(fetchClasses)]int64 // indexed like fetchClasses
}

// ClassCount is the number of failed requests of one class.
type ClassCount struct {
	Name string // "HTTP 4xx", "HTTP 5xx", "timeout", "refused", "reset", "dns", "unreachable", "blocked" or "other"
	N    int64
}

// Key names the class in JSON and log records: "http_4xx", "timeout".
func (c ClassCount) Key() string { return strings.ReplaceAll(strings.ToLower(c.Name), " ", "_") }

// List returns the classes with a non-zero count, in display order.
func (c ErrorClasses) List() []ClassCount {
	var out []ClassCount
	if c.HTTP4xx > 0 {
		out = append(out, ClassCount{"HTTP 4xx", c.HTTP4xx})
	}
	if c.HTTP5xx > 0 {
		out = append(out, ClassCount{"HTTP 5xx", c.HTTP5xx})
	}
	for i, name := range fetchClasses {
		if n := c.Fetch[i]; n > 0 {
			out = append(out, ClassCount{name, n})
		}
	}
	return out
}

// errorCounters are ErrorClasses counted concurrently by the workers.
type errorCounters struct {
	http4xx, http5xx atomic.Int64
	fetch            [len(fetchClasses)]atomic.Int64
}

func (c *errorCounters) load() ErrorClasses {
	e := ErrorClasses{HTTP4xx: c.http4xx.Load(), HTTP5xx: c.http5xx.Load()}
	for i := range c.fetch {
		e.Fetch[i] = c.fetch[i].Load()
	}
	return e
}

// countResponse counts an HTTP response in the run's stats and in the
// Prometheus counters.
func (e *Engine) countResponse(status int, dur time.Duration, size int) {
	atomic.AddInt64(&e.stats.Fetches, 1)
	switch status / 100 {
	case 4:
		e.errs.http4xx.Add(1)
	case 5:
		e.errs.http5xx.Add(1)
	}
	e.Metrics.response(status, dur, size)
}

// countFetchError counts a fetch that got no response, by the reason
// classifyErr gave, in the run's stats and in the Prometheus counters.
func (e *Engine) countFetchError(reason string) {
	e.errs.fetch[fetchClass(reason)].Add(1)
	e.Metrics.fetchError(reason)
}

func (m *Metrics) committed(pages int, states map[string]int) {
	if m == nil {
		return
	}
	m.Pages.Add(float64(pages))
	for s, n := range states {
		m.Outcomes.WithLabelValues(s).Add(float64(n))
	}
}

func (m *Metrics) hosts(h HostsSnapshot) {
	if m == nil {
		return
	}
	m.Hosts.WithLabelValues("active").Set(float64(h.Active))
	m.Hosts.WithLabelValues("in_flight").Set(float64(h.InFlight))
	m.Hosts.WithLabelValues("throttled").Set(float64(h.Throttled))
	m.Hosts.WithLabelValues("backing_off").Set(float64(h.BackingOff))
}
