package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

// sim drives the scheduler on a synthetic clock, as the dispatch loop
// drives it on the wall clock: a real engine and database, real workers
// fetching from a real server on loopback, but time moves only when the
// simulation moves it. A worker fetches at the instant its job is handed
// out, and the server logs each request at that synthetic instant, so the
// server's log is exact: gaps between requests are what the scheduler
// decided, not what a loaded machine made of it. The answer reaches the
// scheduler when the site's latency for the path has passed.
type sim struct {
	t    *testing.T
	cfg  *Config
	e    *Engine
	db   *sqlite.DB
	s    *scheduler
	w    *worker
	srv  *httptest.Server
	base string // the server's origin

	// latency is how long the site takes to answer a request for a path.
	latency func(path string) time.Duration

	mu    sync.Mutex
	clock time.Time    // guarded by mu: the synthetic now
	log   []simRequest // guarded by mu: the server's request log

	inflight []simFetch // fetched, their answers not yet due
	nextTick time.Time  // when the dispatch loop's tick comes next
	sent     int        // jobs handed out (by this sim)
	steps    int
}

// simRequest is a line of the server's log.
type simRequest struct {
	at   time.Time
	path string
}

// simFetch is a fetch whose answer the scheduler gets at end.
type simFetch struct {
	end  time.Time
	d    done
	outs []store.Outcome
}

// simTick is the dispatch loop's tick, which drives sweep and activation.
const simTick = 250 * time.Millisecond

// simStart is where synthetic time starts: an hour from now, so that
// nothing the database stamps with the wall clock (a URL's next attempt,
// a lease) is in the synthetic future.
func simStart() time.Time { return time.Now().Add(time.Hour).Truncate(time.Second) }

// newSim starts site on loopback and a simulation crawling it: configure
// gets a test config and the site's origin, and sets the seeds.
func newSim(t *testing.T, site http.Handler, configure func(cfg *Config, base string)) *sim {
	t.Helper()
	m := &sim{t: t, latency: func(string) time.Duration { return 0 }}
	m.clock = simStart()
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.log = append(m.log, simRequest{at: m.clock, path: r.URL.RequestURI()})
		m.mu.Unlock()
		site.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	m.base = m.srv.URL
	cfg := testConfig(t, m.base+"/")
	cfg.SitemapDiscovery = false
	cfg.Store.Bodies = "identity"
	cfg.Politeness.BackoffBase = time.Second
	configure(cfg, m.base)
	m.cfg = cfg
	e, db := seededEngine(t, cfg)
	t.Cleanup(func() { db.Close() })
	m.attach(e, db)
	return m
}

// attach makes the simulation drive engine e over db from the current
// synthetic time on, as a crawler process started then would.
func (m *sim) attach(e *Engine, db *sqlite.DB) {
	m.e, m.db = e, db
	e.fetchCtx = context.Background()
	e.done = make(chan done, 1)
	e.results = make(chan store.Outcome, 1024)
	e.drained = make(chan struct{}, 1)
	m.t.Cleanup(e.fetch.close)
	bodies, err := store.NewBodyCodec(e.cfg.Store.Bodies)
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(bodies.Close)
	m.w = &worker{e: e, client: e.fetch.newClient(), body: bodies.Encoder()}
	m.s = newScheduler(e)
	m.s.now = m.now
	m.s.jitter = func(d time.Duration) time.Duration { return d }
	m.inflight = nil
	m.nextTick = m.now().Add(simTick)
	if _, err := db.Recover(context.Background()); err != nil {
		m.t.Fatal(err)
	}
	m.s.activate(m.now())
}

func (m *sim) now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clock
}

func (m *sim) setNow(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clock = t
}

// requests returns the server's log.
func (m *sim) requests() []simRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

// pages returns the server's log without robots.txt.
func (m *sim) pages() []simRequest {
	return slices.DeleteFunc(m.requests(), func(r simRequest) bool { return r.path == "/robots.txt" })
}

// pump runs the database work the scheduler asked for, in order, and
// applies each result, as the feeder and the dispatch loop do, until none
// is left; then it commits the outcomes waiting for the writer.
func (m *sim) pump() {
	ctx := context.Background()
	for {
		var req func(context.Context) func()
		select {
		case req = <-m.s.feederReq:
		default:
			if len(m.s.backlog) == 0 {
				if !m.commit() {
					return
				}
				continue
			}
			req = m.s.backlog[0]
			m.s.handed()
		}
		if apply := req(ctx); apply != nil {
			apply()
		}
	}
}

// commit writes the outcomes waiting for the writer and passes its news to
// the scheduler; it reports whether there were any.
func (m *sim) commit() bool {
	var batch []store.Outcome
	for {
		select {
		case o := <-m.e.results:
			batch = append(batch, o)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return false
	}
	res, err := m.db.Commit(context.Background(), batch)
	if err != nil {
		m.t.Fatalf("commit: %v", err)
	}
	m.e.outcomesWritten(batch)
	m.e.settle(int64(len(batch)))
	if len(res.NewByHost) > 0 {
		m.s.newURLs(res.NewByHost)
	}
	return true
}

// fetch runs job j on the worker at the current synthetic instant and
// holds its answer until the site's latency has passed.
func (m *sim) fetch(j job) {
	ctx := context.Background()
	m.e.uncommitted.Add(1)
	path := "/robots.txt"
	if j.kind == jobRobots {
		m.w.robots(ctx, j)
	} else {
		path = strings.TrimPrefix(j.lease.URL, j.origin)
		m.w.page(ctx, j)
	}
	d := <-m.e.done
	lat := m.latency(path)
	if d.class != classHostDown {
		d.latency = lat // the site's synthetic latency, not the loopback's
	}
	d.answerLag = 0 // answered at its synthetic instant, as latency says
	f := simFetch{end: m.now().Add(lat), d: d}
	for {
		select {
		case o := <-m.e.results:
			f.outs = append(f.outs, o)
			continue
		default:
		}
		break
	}
	m.inflight = append(m.inflight, f)
	sort.SliceStable(m.inflight, func(a, b int) bool { return m.inflight[a].end.Before(m.inflight[b].end) })
}

// step moves the simulation by one event: an answer that is due, a job
// handed out, or time moved on to the next event or tick.
func (m *sim) step() {
	m.steps++
	m.pump()
	now := m.now()
	if len(m.inflight) > 0 && !m.inflight[0].end.After(now) {
		f := m.inflight[0]
		m.inflight = m.inflight[1:]
		m.s.finished(f.d, now)
		for _, o := range f.outs {
			m.e.results <- o
		}
		return
	}
	if h, j, at, ok := m.s.next(now); ok {
		m.s.sent(h, j, now)
		m.sent++
		m.fetch(j)
		return
	} else if !at.IsZero() && at.Before(m.nextTick) {
		next := at
		if len(m.inflight) > 0 && m.inflight[0].end.Before(next) {
			next = m.inflight[0].end
		}
		m.setNow(next)
		return
	}
	if len(m.inflight) > 0 && m.inflight[0].end.Before(m.nextTick) {
		m.setNow(m.inflight[0].end)
		return
	}
	m.setNow(m.nextTick)
	m.nextTick = m.nextTick.Add(simTick)
	m.s.sweep()
	m.s.activate(m.now())
}

// runUntil steps until cond holds, failing the test if it does not within
// a bounded number of steps and an hour of synthetic time.
func (m *sim) runUntil(what string, cond func() bool) {
	m.t.Helper()
	limit := m.now().Add(time.Hour)
	for steps := 0; steps < 20000; steps++ {
		m.pump()
		if cond() {
			return
		}
		if m.now().After(limit) {
			break
		}
		m.step()
	}
	m.t.Fatalf("simulation: %s did not happen in %d steps and %v of synthetic time; server log %v",
		what, m.steps, m.now().Sub(limit.Add(-time.Hour)), m.requests())
}

// runToEnd steps until the crawl is over: nothing in flight, nothing in
// the scheduler, nothing queued or leased in the frontier.
func (m *sim) runToEnd() {
	m.t.Helper()
	m.runUntil("the end of the crawl", func() bool {
		if len(m.inflight) > 0 || !m.s.idle() {
			return false
		}
		n, _, err := m.db.Pending(context.Background())
		if err != nil {
			m.t.Fatal(err)
		}
		return n == 0
	})
}

// gaps returns the time between consecutive entries of log.
func gaps(log []simRequest) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(log); i++ {
		out = append(out, log[i].at.Sub(log[i-1].at))
	}
	return out
}

// numbered returns the URLs origin/0 ... origin/(n-1).
func numbered(origin string, n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/%d", origin, i)
	}
	return urls
}
