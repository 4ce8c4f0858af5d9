package crawl

import (
	"context"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// TestNoFetchWithoutLease: a worker starts no request to a host unless the
// host's lease outlives the request's total timeout and the host's delay
// after it. With less left, it renews the lease first, and then fetches.
func TestNoFetchWithoutLease(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\n", "/a", "/b"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 1
		cfg.Fetch.TotalTimeout = 20 * time.Second
	})
	m.runUntil("the host adopted", func() bool { return len(m.s.hosts) == 1 })
	var h *host
	for _, hh := range m.s.hosts {
		h = hh
	}
	// The lease has 20 s left: less than a request's 20 s and the host's
	// 1 s interval.
	h.leaseEnd = m.now().Add(20 * time.Second)
	m.s.nextRenew, m.s.lastRenew = m.now().Add(time.Hour), time.Time{} // no routine renewal
	start := m.now()
	m.runUntil("the first request", func() bool { return len(m.requests()) > 0 })
	first := m.requests()[0].at
	if m.s.lastRenew.Before(start) || first.Before(m.s.lastRenew) {
		t.Errorf("first request at %v, lease renewed at %v (lease cut at %v): want the renewal first", first, m.s.lastRenew, start)
	}
	m.runToEnd()
	if len(m.requests()) != 4 {
		t.Fatalf("server log %v, want robots.txt, /, /a, /b", m.requests())
	}
	if h.leaseEnd.Sub(m.now()) < m.cfg.Politeness.HostLease/2 {
		t.Errorf("lease ends %v after the crawl, want it renewed", h.leaseEnd.Sub(m.now()))
	}
}

// TestLostHostLease: a host whose lease another worker took over is
// dropped at the next renewal: no request is sent to it from then on, and
// what was claimed under the old lease is not recorded.
func TestLostHostLease(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\n", "/a", "/b", "/c"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 1
	})
	m.runUntil("the home page answered", func() bool { return len(m.requests()) == 2 && len(m.inflight) == 0 })
	var h *host
	for _, hh := range m.s.hosts {
		h = hh
	}
	if h == nil || h.token == 0 {
		t.Fatalf("host not held: %+v", h)
	}
	ctx := context.Background()
	// Another worker takes the host over: the lease ran out (renewed for
	// a negative time) and the host is leased anew.
	if _, err := m.db.RenewHosts(ctx, []store.HostToken{{ID: h.id, Token: h.token}}, -time.Millisecond); err != nil {
		t.Fatal(err)
	}
	other, err := m.db.LeaseHosts(ctx, store.HostQuery{IDs: []int64{h.id}, Limit: 1}, time.Hour)
	if err != nil || len(other) != 1 {
		t.Fatalf("take over = %+v, %v", other, err)
	}
	before := len(m.requests())
	m.s.nextRenew = time.Time{}
	m.s.renew(m.now())
	m.pump()
	if _, ok := m.s.hosts[h.id]; ok || h.token != 0 {
		t.Fatalf("host still held after its lease was lost")
	}
	m.runUntil("nothing left in memory", func() bool { return len(m.inflight) == 0 && m.s.idle() })
	if n := len(m.requests()); n != before {
		t.Errorf("%d requests after the host was lost: %v", n-before, m.requests()[before:])
	}
	u, err := m.db.Explain(ctx, m.base+"/a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if u.Page != nil {
		t.Errorf("/a recorded after the lease it was claimed under was lost: %+v", u)
	}
}

// TestLeaseRunOutAndRetaken: a worker whose lease on a host ran out (its
// renewals came too late) and that leases the host again does not fetch
// what it had claimed under the dead lease: the database returned those
// URLs to the queue, so each is claimed again and requested once.
func TestLeaseRunOutAndRetaken(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\n", "/a", "/b", "/c"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 1
	})
	m.runUntil("the home page answered, its links claimed", func() bool {
		for _, h := range m.s.hosts {
			return len(m.requests()) == 2 && len(m.inflight) == 0 && len(h.queue) > 0
		}
		return false
	})
	var h *host
	for _, hh := range m.s.hosts {
		h = hh
	}
	ctx := context.Background()
	if _, err := m.db.RenewHosts(ctx, []store.HostToken{{ID: h.id, Token: h.token}}, -time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rows, err := m.db.LeaseHosts(ctx, store.HostQuery{IDs: []int64{h.id}, Limit: 1}, time.Hour)
	if err != nil || len(rows) != 1 {
		t.Fatalf("lease again = %+v, %v", rows, err)
	}
	m.s.adopt(rows, m.now())
	m.runToEnd()
	seen := map[string]int{}
	for _, r := range m.requests() {
		seen[r.path]++
	}
	for _, p := range []string{"/a", "/b", "/c"} {
		if seen[p] != 1 {
			t.Errorf("%s requested %d times, want once: %v", p, seen[p], m.requests())
		}
	}
}
