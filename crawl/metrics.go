package crawl

import (
	"strconv"
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
