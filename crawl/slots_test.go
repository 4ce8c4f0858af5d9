package crawl

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
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

// TestWaitingHostHandsOverSlot: a host whose URLs all wait for a retry
// does not keep its slot (max_active_hosts) from a host with URLs due:
// the other host is crawled at once, not after the retry.
func TestWaitingHostHandsOverSlot(t *testing.T) {
	site := linkSite("", "/a", "/b")
	var bases []string
	m := newSimHosts(t, []http.Handler{site, site}, func(cfg *Config, b []string) {
		bases = b
		cfg.Seeds = []string{b[0] + "/", b[1] + "/"}
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 10
		cfg.Politeness.MaxInFlight = 1
		cfg.Politeness.MaxActiveHosts = 1
	})
	// The first host's only URL was tried and waits 30 s for its retry.
	ctx := context.Background()
	hosts, err := m.db.LeaseHosts(ctx, store.HostQuery{Limit: 2}, time.Minute)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("lease hosts = %+v, %v", hosts, err)
	}
	first := hosts[0]
	if first.Origin != bases[0] {
		first = hosts[1]
	}
	tok := store.HostToken{ID: first.ID, Token: first.Token}
	ls, _, err := m.db.Claim(ctx, tok, 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("claim = %+v, %v", ls, err)
	}
	retry := m.now().Add(30 * time.Second)
	if _, err := m.db.Commit(ctx, []store.Outcome{{Lease: ls[0], Attempted: true, State: store.StateQueued,
		RetryAt: retry, Reason: "retry 1/3: HTTP 503"}}); err != nil {
		t.Fatal(err)
	}
	var all []store.HostRelease
	for _, h := range hosts {
		all = append(all, store.HostRelease{HostToken: store.HostToken{ID: h.ID, Token: h.Token}})
	}
	if err := m.db.ReleaseHosts(ctx, all); err != nil {
		t.Fatal(err)
	}

	start := m.now()
	second := strings.TrimPrefix(bases[1], "http://")
	m.runUntil("the second host crawled", func() bool {
		n := 0
		for _, r := range m.requests() {
			if r.host == second {
				n++
			}
		}
		return n == 3 && len(m.inflight) == 0
	})
	log := m.requests()
	for _, r := range log {
		if r.host != second {
			t.Errorf("%s%s requested at +%v, before its retry at +%v", r.host, r.path, r.at.Sub(start), retry.Sub(start))
		}
	}
	if wait := log[0].at.Sub(start); wait > time.Second {
		t.Errorf("the second host's first request came %v after the start, want it at once: the first host, "+
			"waiting %v for a retry, kept the only slot; server log %v", wait, retry.Sub(start), log)
	}
}
