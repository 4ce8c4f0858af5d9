package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/testsite"
)

// scrape fetches /metrics and parses it as the Prometheus text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := tryScrape(base)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func tryScrape(base string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s\n%s", resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("GET /metrics: Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("/metrics is not valid text format: %w", err)
	}
	return mfs, nil
}

func getStatus(t *testing.T, base string) statusDoc {
	t.Helper()
	d, err := tryStatus(base)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tryStatus(base string) (statusDoc, error) {
	var d statusDoc
	resp, err := http.Get(base + "/status")
	if err != nil {
		return d, fmt.Errorf("GET /status: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		return d, fmt.Errorf("GET /status: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		return d, fmt.Errorf("GET /status: %w", err)
	}
	return d, nil
}

func gaugeByLabel(mf *dto.MetricFamily, label, value string) (float64, bool) {
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && l.GetValue() == value {
				if g := m.GetGauge(); g != nil {
					return g.GetValue(), true
				}
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

// TestOpsEndpoints crawls a test site with /metrics and /status served,
// scraping them while the crawl runs and checking the values after it.
func TestOpsEndpoints(t *testing.T) {
	ctx := context.Background()
	_, cfg, db := siteCrawl(t, testsite.Options{Hosts: 2, PagesPerHost: 40, Seed: 9})
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	r, err := Start(ctx, cfg, db, Options{Log: log, Metrics: crawl.NewMetrics(reg)})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := ServeOps("127.0.0.1:0", reg, r, log)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ops.Addr()

	// Scrape both endpoints over and over while the crawl runs.
	runDone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	scrapes := 0
	go func() {
		defer wg.Done()
		for i := 0; i < 10000; i++ {
			select {
			case <-runDone:
				return
			default:
			}
			if _, err := tryScrape(base); err != nil {
				t.Errorf("during the crawl: %v", err)
				return
			}
			if _, err := tryStatus(base); err != nil {
				t.Errorf("during the crawl: %v", err)
				return
			}
			scrapes++
		}
	}()
	res, err := r.Crawl(ctx, time.Second)
	close(runDone)
	wg.Wait()
	if err != nil || res.Outcome != crawl.OutcomeFinished {
		t.Fatalf("Crawl = %s, %v", res.Outcome, err)
	}
	t.Logf("%d scrapes during the crawl", scrapes)

	// Drop the cached frontier counts so the next answer is the final one.
	ops.counts.mu.Lock()
	ops.counts.m = nil
	ops.counts.mu.Unlock()
	want, err := db.FrontierCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mfs := scrape(t, base)
	// crawler_hosts is set once a second and a short crawl may end before
	// that, so it is not required here.
	for _, name := range []string{"crawler_http_requests_total", "crawler_fetch_duration_seconds", "crawler_response_bytes_total",
		"crawler_pages_stored_total", "crawler_urls_finished_total", "crawler_frontier_urls",
		"go_goroutines", "process_cpu_seconds_total"} {
		if mfs[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	for _, state := range []string{"queued", "leased", "done", "failed", "skipped"} {
		got, ok := gaugeByLabel(mfs["crawler_frontier_urls"], "state", state)
		if !ok || int(got) != want[state] {
			t.Errorf("crawler_frontier_urls{state=%q} = %v (present %v), want %d", state, got, ok, want[state])
		}
	}
	st := res.Stats
	if got := mfs["crawler_pages_stored_total"].GetMetric()[0].GetCounter().GetValue(); int64(got) != st.Pages || got == 0 {
		t.Errorf("crawler_pages_stored_total = %v, want %d", got, st.Pages)
	}
	got4xx, _ := gaugeByLabel(mfs["crawler_http_requests_total"], "code", "4xx")
	if got4xx == 0 {
		t.Errorf("crawler_http_requests_total{code=\"4xx\"} = 0; the site has 404 pages")
	}

	d := getStatus(t, base)
	if d.Pages != st.Pages || d.Fetches < d.Pages || d.Failed != st.Errors || d.Frontier["done"] != want["done"] || d.Database != cfg.Database ||
		d.Started.IsZero() || d.ElapsedSeconds <= 0 || d.AvgPagesPerSecond <= 0 || d.Errors["http_4xx"] != int64(got4xx) {
		t.Errorf("/status = %+v, want pages %d, failed %d, done %d, %v HTTP 4xx", d, st.Pages, st.Errors, want["done"], got4xx)
	}

	if err := ops.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(base + "/status"); err == nil {
		t.Error("the server still answers after Close")
	}
}
