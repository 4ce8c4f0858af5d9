package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

// frontierCounts caches the frontier's per-state counts, so that frequent
// scrapes cost at most one query per ttl.
type frontierCounts struct {
	db  Reader
	ttl time.Duration

	mu sync.Mutex // guards at and m; held during the query, so concurrent callers share it
	at time.Time
	m  map[string]int
}

func (f *frontierCounts) get(ctx context.Context) (map[string]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m != nil && time.Since(f.at) < f.ttl {
		return f.m, nil
	}
	m, err := f.db.FrontierCounts(ctx)
	if err != nil {
		return nil, err
	}
	f.m, f.at = m, time.Now()
	return m, nil
}

// frontierCollector reports crawler_frontier_urls{state=...}.
type frontierCollector struct {
	counts *frontierCounts
	desc   *prometheus.Desc
}

func newFrontierCollector(c *frontierCounts) *frontierCollector {
	return &frontierCollector{counts: c, desc: prometheus.NewDesc("crawler_frontier_urls",
		"URLs in the frontier, by state (refreshed at most every 2 s).", []string{"state"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *frontierCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *frontierCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.counts.get(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range []string{store.StateQueued, store.StateLeased, store.StateDone, store.StateFailed, store.StateSkipped} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(m[s]), s)
	}
}

// statusDoc is the JSON answer of /status: the run's live progress, the
// frontier by state, the database, the busiest hosts and why URLs failed
// or were skipped.
type statusDoc struct {
	Live
	Frontier map[string]int `json:"frontier"`
	Database string         `json:"database"`
	HostList []LiveHost     `json:"host_list"` // the hosts with the most URLs queued, at most 20
	Causes   []LiveCause    `json:"causes"`    // this run's most frequent reasons URLs failed or were skipped
}

// LiveHost is one host's row on the live page.
type LiveHost struct {
	Origin    string `json:"origin"`
	State     string `json:"state"`
	Queued    int    `json:"queued"`
	Pages     int    `json:"pages"`
	Errors    int    `json:"errors"`
	DelayMS   int64  `json:"delay_ms"`
	LatencyMS int64  `json:"latency_ms"`
	Reason    string `json:"reason,omitempty"` // why it is slow, paused or given up
}

// LiveCause is a reason URLs failed or were skipped, how often, and the
// setting that changes it, if any.
type LiveCause struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	Hint   string `json:"hint,omitempty"`
}

// liveDetail caches the host rows and causes of /status, so that the live
// page's polling costs at most two queries per ttl.
type liveDetail struct {
	db    Reader
	since time.Time // the run's start: causes are this run's
	ttl   time.Duration

	mu     sync.Mutex // guards at, hosts and causes; held during the queries
	at     time.Time
	hosts  []LiveHost
	causes []LiveCause
}

func (d *liveDetail) get(ctx context.Context) ([]LiveHost, []LiveCause, error) {
	if d == nil {
		return []LiveHost{}, []LiveCause{}, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hosts != nil && time.Since(d.at) < d.ttl {
		return d.hosts, d.causes, nil
	}
	rows, _, err := d.db.HostList(ctx, store.ByQueued, 20)
	if err != nil {
		return nil, nil, err
	}
	causes, err := d.db.Causes(ctx, d.since, 10)
	if err != nil {
		return nil, nil, err
	}
	d.hosts, d.causes, d.at = make([]LiveHost, 0, len(rows)), make([]LiveCause, 0, len(causes)), time.Now()
	for _, h := range rows {
		d.hosts = append(d.hosts, LiveHost{Origin: h.Origin, State: h.State, Queued: h.Queued, Pages: h.Pages, Errors: h.Errors,
			DelayMS: max(h.DelayMS, h.CrawlDelayMS), LatencyMS: h.LatencyMS, Reason: h.Reason})
	}
	for _, c := range causes {
		d.causes = append(d.causes, LiveCause{State: c.State, Reason: c.Reason, Count: c.Count, Hint: crawl.ReasonHint(c.Reason, "")})
	}
	return d.hosts, d.causes, nil
}

// Ops serves /metrics (Prometheus), /status (JSON) and a small live page
// at / while a run crawls.
type Ops struct {
	srv    *http.Server
	ln     net.Listener
	counts *frontierCounts
	done   chan struct{}
}

// opsHandler routes the operations endpoints.
func opsHandler(reg *prometheus.Registry, progress func() Progress, counts *frontierCounts, detail *liveDetail, database string,
	log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		m, err := counts.get(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		hosts, causes, err := detail.get(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(statusDoc{Live: progress().Live(), Frontier: m, Database: database, HostList: hosts, Causes: causes})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, listenPage)
	})
	return mux
}

// ServeOps listens on addr and serves the operations endpoints of r: reg
// (which should hold the run's crawl.Metrics) at /metrics, r's progress at
// /status. It registers the Go runtime, process and frontier collectors on
// reg. Close stops it.
func ServeOps(addr string, reg *prometheus.Registry, r *Run, log *slog.Logger) (*Ops, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	counts := &frontierCounts{db: r.db, ttl: 2 * time.Second}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newFrontierCollector(counts))
	o := &Ops{
		srv: &http.Server{
			Handler: opsHandler(reg, r.Progress, counts, &liveDetail{db: r.db, since: r.since, ttl: 2 * time.Second},
				r.cfg.Database, log),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		ln:     ln,
		counts: counts,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(o.done)
		if err := o.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	log.Info("serving /metrics and /status", "addr", ln.Addr().String())
	return o, nil
}

// Addr returns the address the server listens on.
func (o *Ops) Addr() string { return o.ln.Addr().String() }

// Close stops the server, giving open requests a moment to finish, and
// waits for it.
func (o *Ops) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := o.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, o.srv.Close())
	}
	<-o.done
	return err
}
