package crawl

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store/sqlite"
)

// The politeness tests run the scheduler on a synthetic clock (see sim) and
// judge it by the server's log, stamped with that clock: a gap is exactly
// what the scheduler allowed.

// linkSite serves robots.txt, a home page linking to /a ... and leaf pages.
func linkSite(robots string, leaves ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, robots)
		case "/":
			for _, l := range leaves {
				fmt.Fprintf(w, `<a href="%s">%s</a>`, l, l)
			}
		default:
			fmt.Fprint(w, `<html><title>leaf</title></html>`)
		}
	})
}

// TestCrawlDelayHonoured: with "Crawl-delay: 1" no two requests to the host
// start less than a second apart, whatever the configured rate and
// in-flight cap, and the crawl waits no longer than that.
func TestCrawlDelayHonoured(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\nCrawl-delay: 1\n", "/a", "/b", "/c"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 5
		cfg.Politeness.MaxInFlight = 2
	})
	m.runToEnd()
	log := m.requests()
	if len(log) != 5 {
		t.Fatalf("server log %v, want robots.txt, /, /a, /b, /c", log)
	}
	for i, g := range gaps(log) {
		if g != time.Second {
			t.Errorf("request %d (%s) came %v after %s; Crawl-delay is 1s", i+1, log[i+1].path, g, log[i].path)
		}
	}
}

// TestCrawlDelayAfterSlowRobots: the request after a slow robots.txt that
// sets "Crawl-delay: 2" comes two seconds after the robots.txt request,
// however fast the configured rate would have allowed it while robots.txt
// was on its way.
func TestCrawlDelayAfterSlowRobots(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\nCrawl-delay: 2\n"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 10
		cfg.Politeness.MaxInFlight = 1
	})
	m.latency = func(path string) time.Duration {
		if path == "/robots.txt" {
			return 500 * time.Millisecond
		}
		return 0
	}
	m.runToEnd()
	log := m.requests()
	if len(log) != 2 || log[1].path != "/" {
		t.Fatalf("server log %v, want robots.txt and /", log)
	}
	if g := log[1].at.Sub(log[0].at); g != 2*time.Second {
		t.Errorf("/ requested %v after robots.txt; Crawl-delay is 2s", g)
	}
}

// TestRatePerHost: politeness.rate spaces a host's requests, a per-host
// override replaces it, and the burst lets that many go at once.
func TestRatePerHost(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		burst int
		host  *HostOverride
		want  []time.Duration // gaps between page requests
	}{
		{"rate 2", 2, 1, nil, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}},
		{"override", 2, 1, &HostOverride{Rate: 4}, []time.Duration{250 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}},
		{"burst", 1, 3, nil, []time.Duration{0, 0, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newSim(t, linkSite(""), func(cfg *Config, base string) {
				cfg.Seeds = numbered(base, 4)
				cfg.Politeness.ObeyRobots = false
				cfg.Politeness.Rate, cfg.Politeness.Burst = tt.rate, tt.burst
				cfg.Politeness.MaxInFlight = 4
				if tt.host != nil {
					cfg.Politeness.Hosts = map[string]HostOverride{strings.TrimPrefix(base, "http://"): *tt.host}
				}
			})
			m.runToEnd()
			got := gaps(m.pages())
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("gaps between requests %v, want %v", got, tt.want)
			}
		})
	}
}

// TestInFlightCap: no more than max_in_flight requests to a host are open at
// once, and the next goes as soon as one is answered.
func TestInFlightCap(t *testing.T) {
	m := newSim(t, linkSite(""), func(cfg *Config, base string) {
		cfg.Seeds = numbered(base, 7)
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 0
		cfg.Politeness.MaxInFlight = 3
		cfg.Politeness.LatencyFactor = 0
	})
	m.latency = func(string) time.Duration { return time.Second }
	m.runToEnd()
	log := m.pages()
	if len(log) != 7 {
		t.Fatalf("server log %v, want 7 pages", log)
	}
	start := log[0].at
	var at []time.Duration
	for _, r := range log {
		at = append(at, r.at.Sub(start))
	}
	// Three at once; each answer, a second later, lets the next go.
	want := []time.Duration{0, 0, 0, time.Second, time.Second, time.Second, 2 * time.Second}
	if fmt.Sprint(at) != fmt.Sprint(want) {
		t.Errorf("requests at %v, want %v", at, want)
	}
}

// TestLatencyPacing: a host that answers slowly is paced at its smoothed
// latency times latency_factor, above the configured rate.
func TestLatencyPacing(t *testing.T) {
	m := newSim(t, linkSite(""), func(cfg *Config, base string) {
		cfg.Seeds = numbered(base, 8)
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 10
		cfg.Politeness.MaxInFlight = 4
		cfg.Politeness.LatencyFactor = 2
	})
	m.latency = func(string) time.Duration { return 400 * time.Millisecond }
	m.runToEnd()
	got := gaps(m.pages())
	// Four requests go at the configured rate before the first answer,
	// which takes 400ms: the pace becomes 800ms, and the token the limiter
	// gathered at the old rate lets one more go at once.
	want := []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond,
		800 * time.Millisecond, 800 * time.Millisecond, 800 * time.Millisecond}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gaps between requests %v, want %v", got, want)
	}
}

// throttleSite answers the first n page requests with status (and
// Retry-After, when set), the rest with 200.
type throttleSite struct {
	status     int
	retryAfter string
	n          int
}

func (s *throttleSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.n > 0 {
		s.n--
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		http.Error(w, "slow down", s.status)
		return
	}
	fmt.Fprint(w, `<html><title>ok</title></html>`)
}

// TestThrottleBackoff: a 429 or 503 pauses the whole host, by Retry-After
// when the server gives one (capped by max_retry_after), else by a backoff
// that doubles with each throttled answer up to backoff_max.
func TestThrottleBackoff(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		n          int
		want       []time.Duration // gaps between page requests
	}{
		{"429 backoff doubles to its cap", 429, "", 4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}},
		{"503 backoff", 503, "", 2, []time.Duration{time.Second, 2 * time.Second, 0}},
		{"Retry-After seconds", 429, "7", 1, []time.Duration{7 * time.Second, 0, 0}},
		{"Retry-After capped", 503, "7200", 1, []time.Duration{time.Minute, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newSim(t, &throttleSite{status: tt.status, retryAfter: tt.retryAfter, n: tt.n}, func(cfg *Config, base string) {
				cfg.Seeds = numbered(base, len(tt.want)+1)
				cfg.Politeness.ObeyRobots = false
				cfg.Politeness.Rate = 0
				cfg.Politeness.MaxInFlight = 1
				cfg.Politeness.BackoffMax = 4 * time.Second
				cfg.Politeness.MaxRetryAfter = time.Minute
				cfg.Fetch.MaxRetries = 0 // the page fails; the host's pause is what is tested
			})
			m.runToEnd()
			got := gaps(m.pages())
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("gaps between requests %v, want %v", got, tt.want)
			}
		})
	}
}

// TestHostGivenUp: a host that refuses connections is paused longer after
// each failure and given up after host_failures in a row; its URLs end
// skipped with the reason, and nothing more is sent to it.
func TestHostGivenUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	m := newSim(t, linkSite(""), func(cfg *Config, base string) {
		cfg.Seeds = numbered(dead, 5)
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 0
		cfg.Politeness.HostFailures = 3
		cfg.Fetch.MaxRetries = 0
	})
	var sent []time.Time
	m.runUntil("the host given up", func() bool {
		for len(sent) < m.sent {
			sent = append(sent, m.now())
		}
		return len(m.inflight) == 0 && m.s.idle() && len(m.s.hosts) == 0
	})
	m.runToEnd()
	var got []time.Duration
	for i := 1; i < len(sent); i++ {
		got = append(got, sent[i].Sub(sent[i-1]))
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("connection attempts %v apart, want %v (then given up)", got, want)
	}
	states := queryMap(t, m.cfg.Database, `SELECT url, state || ': ' || coalesce(reason, '') FROM frontier`)
	const why = "skipped: host unreachable: 3 consecutive connection failures or unanswered requests"
	for i := 3; i < 5; i++ {
		if u := fmt.Sprintf("%s/%d", dead, i); states[u] != why {
			t.Errorf("%s: %q, want %q", u, states[u], why)
		}
	}
}

// TestRobotsUnreachableGivenUp: a robots.txt that answers 5xx disallows
// everything; it is asked again after a backoff, and after
// robots_retries answers the host is given up without a page request.
func TestRobotsUnreachableGivenUp(t *testing.T) {
	m := newSim(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "<html><title>page</title></html>")
	}), func(cfg *Config, base string) {
		cfg.Politeness.RobotsRetries = 3
		cfg.Politeness.Rate = 0
	})
	m.runToEnd()
	log := m.requests()
	if len(log) != 3 || log[2].path != "/robots.txt" {
		t.Fatalf("server log %v, want robots.txt three times and nothing else", log)
	}
	if got, want := fmt.Sprint(gaps(log)), fmt.Sprint([]time.Duration{time.Second, 2 * time.Second}); got != want {
		t.Errorf("robots.txt requests %s apart, want %s", got, want)
	}
	states := queryMap(t, m.cfg.Database, `SELECT url, state || ': ' || coalesce(reason, '') FROM frontier`)
	if got, want := states[m.base+"/"], "skipped: robots.txt unavailable (HTTP 500) after 3 attempts"; got != want {
		t.Errorf("seed: %q, want %q", got, want)
	}
}

// TestCrawlDelayAcrossRestart: a crawler that stops at once (kill -9) and
// starts again keeps the host's Crawl-delay: its first request comes a
// Crawl-delay after the last request of the one before, as the host's
// persisted next allowed time says.
func TestCrawlDelayAcrossRestart(t *testing.T) {
	m := newSim(t, linkSite("User-agent: *\nCrawl-delay: 5\n", "/a", "/b", "/c", "/d"), func(cfg *Config, base string) {
		cfg.Politeness.Rate = 0
	})
	m.runUntil("three requests answered", func() bool { return len(m.requests()) == 3 && len(m.inflight) == 0 })
	// The first crawler dies: nothing it held is written, its leases stay.
	// The next one starts a second after its last request.
	m.db.Close()
	m.setNow(m.now().Add(time.Second))
	db, err := sqlite.Open(context.Background(), m.cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := New(m.cfg, db, m.e.log)
	if err != nil {
		t.Fatal(err)
	}
	m.attach(e, db)
	m.runToEnd()
	log := m.requests()
	if len(log) != 6 {
		t.Fatalf("server log %v, want robots.txt once and five pages", log)
	}
	for i, g := range gaps(log) {
		if g < 5*time.Second {
			t.Errorf("request %d (%s) came %v after %s; Crawl-delay is 5s", i+1, log[i+1].path, g, log[i].path)
		}
	}
}
