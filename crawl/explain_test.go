package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

func TestJudgeRobots(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	fetched := func(status int, body string) *store.HostInfo {
		return &store.HostInfo{Origin: "http://a.example", RobotsFetched: true, RobotsStatus: status, RobotsBody: []byte(body),
			RobotsFetchedAt: now.Add(-time.Hour), RobotsExpiresAt: now.Add(time.Hour), RobotsFailures: 2}
	}
	robots := "User-agent: *\nAllow: /private/open\nDisallow: /private/\nCrawl-delay: 2\n"
	tests := []struct {
		name    string
		url     string
		host    *store.HostInfo
		obey    bool
		verdict string
		detail  string
	}{
		{"ignored", "http://a.example/x", fetched(200, robots), false, "ignored", "not consulted"},
		{"no host", "http://a.example/x", nil, true, "unknown", "no host record"},
		{"not fetched", "http://a.example/x", &store.HostInfo{Origin: "http://a.example"}, true, "unknown",
			"robots.txt has not been fetched yet for http://a.example"},
		{"disallowed", "http://a.example/private/1", fetched(200, robots), true, "disallowed",
			`disallowed by "Disallow: /private/" (line 3), in the group for "*"; Crawl-delay 2s`},
		{"allowed by a rule", "http://a.example/private/open", fetched(200, robots), true, "allowed",
			`allowed by "Allow: /private/open" (line 2)`},
		{"no rule", "http://a.example/public", fetched(200, robots), true, "allowed", "allowed: no rule matches"},
		{"404", "http://a.example/x", fetched(404, ""), true, "allowed", "robots.txt answered HTTP 404: everything is allowed"},
		{"503", "http://a.example/x", fetched(503, ""), true, "unavailable",
			"robots.txt unavailable (HTTP 503, 2 failed attempts): everything is disallowed"},
		{"429", "http://a.example/x", fetched(429, ""), true, "unavailable",
			"robots.txt unavailable (HTTP 429, 2 failed attempts): everything is disallowed"},
		{"redirects used up", "http://a.example/x", fetched(301, ""), true, "allowed",
			"robots.txt answered HTTP 301: everything is allowed"},
		{"no answer", "http://a.example/x", fetched(0, ""), true, "unavailable", "robots.txt unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := judgeRobots(&store.URLInfo{URL: tt.url, Host: tt.host}, explainContext{Agent: "crawler", ObeyRobots: tt.obey, Now: now})
			if v.Verdict != tt.verdict || !strings.HasPrefix(v.Detail, tt.detail) {
				t.Errorf("judgeRobots = %s %q, want %s %q", v.Verdict, v.Detail, tt.verdict, tt.detail)
			}
		})
	}
}

func TestHostPaces(t *testing.T) {
	now := time.Now()
	hs := []store.HostInfo{
		{Origin: "http://stored.example", DelayMS: 2000, CrawlDelayMS: 500},
		{Origin: "http://plain.example"},
		{Origin: "http://port.example:8080"},
		{Origin: "http://name.example:8080"},
		{Origin: "http://paused.example", NextFetchAt: now.Add(time.Minute)},
	}
	p := Politeness{Rate: 4, Hosts: map[string]HostOverride{"port.example:8080": {Rate: 0.5}, "name.example": {Rate: 10}}}
	got := HostPaces(hs, &p, now)
	want := []struct {
		source string
		delay  int64
		rate   string
	}{{"stored", 2000, "0.5/s"}, {"config", 250, "4/s"}, {"config", 2000, "0.5/s"}, {"config", 100, "10/s"}, {"config", 250, "4/s"}}
	for i, w := range want {
		if g := got[i]; g.DelaySource != w.source || g.DelayMS != w.delay || g.RateString() != w.rate {
			t.Errorf("%s: %s, %d ms, %s; want %s, %d ms, %s", g.Origin, g.DelaySource, g.DelayMS, g.RateString(), w.source, w.delay, w.rate)
		}
	}
	if got[4].PausedUntil == nil || got[0].PausedUntil != nil {
		t.Errorf("paused until: %v and %v, want only the second set", got[4].PausedUntil, got[0].PausedUntil)
	}
	if s := got[0].Summary(now); s != ", 2s between requests (0.5/s), Crawl-delay 500ms, backoff level 0, not paused" {
		t.Errorf("Summary = %q", s)
	}
	unknown := HostPaces(hs[1:2], nil, now)[0]
	if unknown.DelaySource != "unknown" || unknown.RateString() != "-" || !strings.Contains(unknown.Summary(now), "pass -c") {
		t.Errorf("without a config: %+v", unknown)
	}
	unlimited := HostPaces(hs[1:2], &Politeness{}, now)[0]
	if unlimited.RatePerSec != nil || unlimited.RateString() != "unlimited" {
		t.Errorf("rate 0: %+v, want unlimited", unlimited)
	}
}

// TestExplainAgreesWithCrawl: for each answer of robots.txt, explain says a
// page is allowed exactly when the crawl fetched it, as the server's log
// shows.
func TestExplainAgreesWithCrawl(t *testing.T) {
	tests := []struct {
		name    string
		robots  func(w http.ResponseWriter)
		verdict string
	}{
		{"429", func(w http.ResponseWriter) { http.Error(w, "slow down", http.StatusTooManyRequests) }, "unavailable"},
		{"503", func(w http.ResponseWriter) { http.Error(w, "down", http.StatusServiceUnavailable) }, "unavailable"},
		{"404", func(w http.ResponseWriter) { http.NotFound(w, nil) }, "allowed"},
		{"disallow", func(w http.ResponseWriter) { fmt.Fprint(w, "User-agent: *\nDisallow: /page\n") }, "disallowed"},
		{"allow", func(w http.ResponseWriter) { fmt.Fprint(w, "User-agent: *\nDisallow: /other\n") }, "allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var log []string // guarded by mu
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				log = append(log, r.URL.Path)
				mu.Unlock()
				if r.URL.Path == "/robots.txt" {
					tt.robots(w)
					return
				}
				fmt.Fprint(w, "<html><title>page</title></html>")
			}))
			defer srv.Close()
			cfg := testConfig(t, srv.URL+"/page")
			cfg.SitemapDiscovery = false
			cfg.Politeness.RobotsRetries = 1
			crawlOnce(t, cfg)
			db, err := sqlite.Open(context.Background(), cfg.Database)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e, err := Explain(context.Background(), db, cfg, srv.URL+"/page", ExplainOptions{ConfigKnown: true, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			fetched := slices.Contains(log, "/page")
			mu.Unlock()
			if e.Robots.Verdict != tt.verdict {
				t.Errorf("explain: robots.txt verdict %s (%s), want %s", e.Robots.Verdict, e.Robots.Detail, tt.verdict)
			}
			if allowed := e.Robots.Verdict == "allowed"; allowed != fetched {
				t.Errorf("explain says %s (%s), yet the server was sent /page: %v (state %s: %s)",
					e.Robots.Verdict, e.Robots.Detail, fetched, e.State, e.Reason)
			}
		})
	}
}
