package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// statusLog records the status of every response a handler sends, and the
// requests it never answered.
type statusLog struct {
	h http.Handler

	mu       sync.Mutex     // guards byClass and hung
	byClass  map[string]int // "4xx", "5xx", ... of pages (robots.txt left out)
	hung     int            // requests to hangPath, never answered
	hangPath string
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (l *statusLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == l.hangPath {
		l.mu.Lock()
		l.hung++
		l.mu.Unlock()
		<-r.Context().Done() // the client's total_timeout ends it
		return
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	l.h.ServeHTTP(sw, r)
	if r.URL.Path == "/robots.txt" {
		return
	}
	l.mu.Lock()
	l.byClass[fmt.Sprintf("%dxx", sw.status/100)]++
	l.mu.Unlock()
}

// TestErrorClasses crawls a site with a 404, a page that answers 503 twice
// and a page that never answers, and checks that the run's stats count the
// failed requests by class as the server saw them, and that the Prometheus
// counters hold the same counts.
func TestErrorClasses(t *testing.T) {
	site := &smallSite{hits: map[string]int{}, flaky: 2}
	log := &statusLog{h: site, byClass: map[string]int{}, hangPath: "/hang"}
	srv := httptest.NewServer(log)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Seeds = append(cfg.Seeds, srv.URL+"/hang")
	cfg.Fetch.TotalTimeout = 300 * time.Millisecond
	cfg.Fetch.MaxRetries = 1
	e, db := seededEngine(t, cfg)
	defer db.Close()
	reg := prometheus.NewRegistry()
	e.Metrics = NewMetrics(reg)
	if out, err := e.Run(context.Background(), time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("Run = %s, %v", out, err)
	}
	got := e.Snapshot().ErrorClasses
	log.mu.Lock()
	want4xx, want5xx, hung := int64(log.byClass["4xx"]), int64(log.byClass["5xx"]), int64(log.hung)
	log.mu.Unlock()
	if want4xx == 0 || want5xx != 2 || hung != 2 {
		t.Fatalf("the server answered %d 4xx and %d 5xx and left %d requests unanswered; want some, 2 and 2", want4xx, want5xx, hung)
	}
	want := ErrorClasses{HTTP4xx: want4xx, HTTP5xx: want5xx}
	want.Fetch[0] = hung // timeout
	if got != want {
		t.Errorf("Stats.ErrorClasses = %+v, want %+v (from the server's log)", got, want)
	}
	list := got.List()
	if len(list) != 3 || list[0] != (ClassCount{"HTTP 4xx", want4xx}) || list[1] != (ClassCount{"HTTP 5xx", 2}) ||
		list[2] != (ClassCount{"timeout", 2}) {
		t.Errorf("List() = %v, want HTTP 4xx, HTTP 5xx and timeout in that order", list)
	}
	for _, c := range []struct {
		name string
		got  float64
		want int64
	}{
		{`crawler_http_requests_total{code="4xx"}`, counterValue(e.Metrics.Requests.WithLabelValues("4xx")), got.HTTP4xx},
		{`crawler_http_requests_total{code="5xx"}`, counterValue(e.Metrics.Requests.WithLabelValues("5xx")), got.HTTP5xx},
		{`crawler_fetch_errors_total{reason="timeout"}`, counterValue(e.Metrics.FetchErrors.WithLabelValues("timeout")), got.Fetch[0]},
	} {
		if int64(c.got) != c.want {
			t.Errorf("%s = %v, want %d as in the stats", c.name, c.got, c.want)
		}
	}
}

func TestFetchClass(t *testing.T) {
	for reason, want := range map[string]string{
		"timeout": "timeout", "connection refused": "refused", "connection reset": "reset", "dns: no such host": "dns",
		"dns error": "dns", "host unreachable": "unreachable", "blocked address": "blocked", "bad content": "other",
		"fetch error": "other", "proxy: connection refused": "refused", "proxy: timeout": "timeout",
	} {
		if got := fetchClasses[fetchClass(reason)]; got != want {
			t.Errorf("fetchClass(%q) = %s, want %s", reason, got, want)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
