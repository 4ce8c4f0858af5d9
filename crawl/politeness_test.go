package crawl

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestCrawlDelayHonoured: with "Crawl-delay: 1" no two requests to the host
// start less than a second apart, whatever the configured rate.
func TestCrawlDelayHonoured(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		starts = append(starts, time.Now())
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nCrawl-delay: 1\n")
		case "/":
			fmt.Fprint(w, `<a href="/a">a</a><a href="/b">b</a><a href="/c">c</a>`)
		default:
			fmt.Fprint(w, `<html><title>leaf</title></html>`)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Politeness.Rate = 5
	cfg.Politeness.MaxInFlight = 2
	crawlOnce(t, cfg)
	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 5 {
		t.Fatalf("only %d requests: %v", len(starts), paths)
	}
	// The server sees arrival times, which scheduling on a loaded machine
	// can shift by a fraction of a second; over the whole crawl the spacing
	// must still average a second, and no gap may be far below it.
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < 500*time.Millisecond {
			t.Errorf("request %d (%s) started %v after %s; Crawl-delay is 1s", i, paths[i], gap, paths[i-1])
		}
	}
	if span, min := starts[len(starts)-1].Sub(starts[0]), time.Duration(len(starts)-1)*800*time.Millisecond; span < min {
		t.Errorf("%d requests within %v; Crawl-delay 1s needs at least %v", len(starts), span, min)
	}
}

// TestCrawlDelayAfterSlowRobots: the request after a slow robots.txt that
// sets "Crawl-delay: 2" comes two seconds after the robots.txt request,
// however fast the configured rate would have allowed it while robots.txt
// was on its way.
func TestCrawlDelayAfterSlowRobots(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			// The scenario: robots.txt takes half a second.
			select {
			case <-time.After(500 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, "User-agent: *\nCrawl-delay: 2\n")
		default:
			fmt.Fprint(w, `<html><title>home</title></html>`)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Politeness.Rate = 10
	cfg.Politeness.MaxInFlight = 1
	cfg.SitemapDiscovery = false
	crawlOnce(t, cfg)
	mu.Lock()
	defer mu.Unlock()
	if len(starts) != 2 {
		t.Fatalf("%d requests, want robots.txt and /", len(starts))
	}
	if gap := starts[1].Sub(starts[0]); gap < 1500*time.Millisecond {
		t.Errorf("/ requested %v after robots.txt; Crawl-delay is 2s", gap.Round(time.Millisecond))
	}
}
