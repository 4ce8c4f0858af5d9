package crawl

import (
	"net/http"
	"strings"
	"testing"
)

// TestHostReleasedWhenWriterIsFirst: on a busy machine the writer can
// record a page's outcome before the dispatch loop, which handed the job
// to a worker, counts it as sent. The host is still released once its
// URLs are done, and the host waiting for its slot is crawled: the crawl
// ends.
func TestHostReleasedWhenWriterIsFirst(t *testing.T) {
	site := linkSite("User-agent: *\n", "/a", "/b")
	m := newSimHosts(t, []http.Handler{site, site}, func(cfg *Config, bases []string) {
		cfg.Seeds = []string{bases[0] + "/", bases[1] + "/"}
		cfg.Politeness.Rate = 10
		cfg.Politeness.MaxInFlight = 1
		cfg.Politeness.MaxActiveHosts = 1
	})
	m.writeFirst = true
	m.runToEnd()
	byHost := map[string][]string{}
	for _, r := range m.requests() {
		byHost[r.host] = append(byHost[r.host], r.path)
	}
	want := "[/robots.txt / /a /b]"
	if len(byHost) != 2 {
		t.Fatalf("requests by host %v, want 2 hosts asked for %s", byHost, want)
	}
	for h, paths := range byHost {
		if got := strings.Join(paths, " "); "["+got+"]" != want {
			t.Errorf("%s was asked for %v, want %s", h, paths, want)
		}
	}
}
