package runner

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crawler-dev/crawler/testsite"
)

func TestListenStatusPage(t *testing.T) {
	h := opsHandler(prometheus.NewRegistry(), func() Progress { return Progress{} }, nil, nil, "x.db",
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{`fetch("/status"`, "Pages stored", "setInterval"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
}

// TestListenStatusHostsAndCauses checks that /status carries a row per
// host and this run's causes with the setting that changes each, and that
// the page shows them.
func TestListenStatusHostsAndCauses(t *testing.T) {
	site, cfg, db := siteCrawl(t, testsite.Options{Hosts: 2, PagesPerHost: 30, Seed: 5})
	ctx := context.Background()
	r, err := Start(ctx, cfg, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Crawl(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	counts := &frontierCounts{db: db, ttl: time.Second}
	h := opsHandler(prometheus.NewRegistry(), r.Progress, counts, &liveDetail{db: db, since: r.since, ttl: time.Second},
		db.Path(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	var doc statusDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("GET /status: %v\n%s", err, rec.Body.String())
	}
	hosts := map[string]LiveHost{}
	for _, h := range doc.HostList {
		hosts[h.Origin] = h
	}
	for _, host := range site.Hosts() {
		if h, ok := hosts["http://"+host]; !ok || h.Pages == 0 || h.State != "active" {
			t.Errorf("host_list has %+v for %s, want its row with pages", h, host)
		}
	}
	var robots *LiveCause
	for i, c := range doc.Causes {
		if strings.HasPrefix(c.Reason, `robots.txt: "Disallow: /private/"`) {
			robots = &doc.Causes[i]
		}
	}
	if robots == nil || robots.State != "skipped" || robots.Count == 0 || !strings.Contains(robots.Hint, "politeness.obey_robots") {
		t.Errorf("causes %+v lack the robots.txt skips with their setting", doc.Causes)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for _, want := range []string{"s.host_list", "s.causes", "c.hint", "textContent = s.waiting"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("status page does not show %s", want)
		}
	}
}
