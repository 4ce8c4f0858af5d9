// Package crawl is the crawl engine: a durable frontier in the store feeds
// per-host queues, each paced by its own rate limiter, in-flight cap,
// Crawl-delay and backoff; a fixed pool of workers fetches with colly and
// parses the page; one writer records every outcome exactly once.
package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// ErrInterrupted is returned by Run when the crawl was stopped before it
// finished. The database is consistent; running again resumes.
var ErrInterrupted = errors.New("crawl interrupted")

// Outcome says how a run ended.
type Outcome string

const (
	OutcomeFinished    Outcome = "finished"
	OutcomeLimit       Outcome = "limit"
	OutcomeInterrupted Outcome = "interrupted"
	OutcomeFailed      Outcome = "failed"
)

// Engine runs one crawl over one database. Create it with New, then Run.
type Engine struct {
	cfg    *Config
	db     Store   // retries calls while the database is unavailable
	outage *outage // whether it is
	log    *slog.Logger
	norm   *urlnorm.Normalizer
	scope  *scope
	rules  *parse.Rules
	// revisit schedules fetched URLs for revisits; nil unless
	// recrawl.enabled.
	revisit *revisits
	fetch   *fetcher
	seen    *seenCache
	// hostOverrides are politeness.hosts by canonical host.
	hostOverrides hostMap[HostOverride]
	agent         string

	listMode bool
	seeds    []string

	jobs    chan job
	done    chan done
	results chan store.Outcome

	fetchCtx     context.Context // cancelled when in-flight fetches must stop
	uncommitted  atomic.Int64    // outcomes produced but not yet committed
	drained      chan struct{}   // signalled when uncommitted drops to zero
	pagesAtStart int
	ticks        <-chan time.Time // replaces the dispatch loop's 250 ms ticker when set (tests)

	// pending counts, per host id, the outcomes of leases handed to
	// workers (or skipped at dispatch) that the writer has not written
	// yet: a host is released only when it has none, so that everything
	// still leased under its lease then is a claim nobody will record
	// (one whose answer the database lost) and can return to the queue.
	// A count may go below zero for a moment: the dispatch loop counts a
	// job after handing it over, and on a busy machine the writer can
	// have written its outcome by then.
	pendingMu sync.Mutex
	pending   map[int64]int // guarded by pendingMu

	errOnce sync.Once
	err     error
	cancel  context.CancelCauseFunc

	stats   Stats      // counters updated atomically
	statsMu sync.Mutex // guards stats.Hosts and stats.Queued
	errs    errorCounters

	// OnProgress, if set, is called about once a second with fresh stats.
	OnProgress func(Stats)
	// Metrics, if set, receives Prometheus observations.
	Metrics *Metrics
	// FeedStdout is where a feed with path - writes; nil discards.
	FeedStdout io.Writer

	committed chan struct{}   // signalled after a commit that recorded pages, for the feeds
	hooks     []*hookSender   // set by Run before its goroutines start
	hookWake  []chan struct{} // one per hook, signalled like committed
}

// Stats are live counters of a run. Safe to read with Snapshot.
type Stats struct {
	Started     time.Time
	Pages       int64 // page rows recorded this run
	Fetches     int64 // HTTP responses received
	Errors      int64 // outcomes that failed
	Skipped     int64 // URLs skipped at dispatch (robots, budget)
	Retries     int64
	Bytes       int64 // decoded body bytes received
	Queued      int   // queued in the frontier at last check
	Uncommitted int64 // outcomes waiting for the writer
	Dispatched  int   // fetches handed to workers this run
	Hosts       HostsSnapshot
	Running     []Running // the longest-running fetches, longest first (at most 5)
	Outcome     Outcome
	// ErrorClasses are this run's failed requests by class, the same
	// counts the Prometheus counters are fed.
	ErrorClasses ErrorClasses
	// Revisits are the fetches of URLs fetched before that got an answer;
	// Unchanged those that found what was stored (the same body, or 304),
	// NotModified those answered 304.
	Revisits, Unchanged, NotModified int64
	// Sleeping says a continuous run has nothing due: it sleeps until
	// WakeAt, when its next URL is due (zero when none is scheduled).
	Sleeping bool
	WakeAt   time.Time
	// Waiting is set when nothing is in flight and every queued URL waits
	// for its retry time: the crawl is not stuck, it waits.
	Waiting RetryWait
	// Webhooks are the webhooks' deliveries, in config order.
	Webhooks []WebhookState
}

// RetryWait is a crawl that has nothing to do but wait for retries.
type RetryWait struct {
	URLs int       // queued URLs, none of them due
	Next time.Time // when the first of them is due
}

// New prepares an engine over an open database.
func New(cfg *Config, db Store, log *slog.Logger) (*Engine, error) {
	norm, err := cfg.normalizer()
	if err != nil {
		return nil, err
	}
	rules, err := parse.CompileRules(cfg.Extract)
	if err != nil {
		return nil, fmt.Errorf("extract rules: %w", err)
	}
	if len(cfg.Extract) == 0 {
		rules = nil
	}
	policy := newAddrPolicy(cfg.Fetch.AllowAddresses)
	f, err := newFetcher(cfg, policy)
	if err != nil {
		return nil, err
	}
	overrides, err := newHostMap(cfg.Politeness.Hosts)
	if err != nil {
		f.close()
		return nil, fmt.Errorf("politeness.hosts: %w", err)
	}
	out := newOutage(log)
	var st Store // nil without a database (crawler fetch)
	if db != nil {
		st = &retryStore{Store: db, o: out}
	}
	e := &Engine{
		cfg: cfg, db: st, outage: out, log: log, norm: norm, rules: rules, fetch: f,
		hostOverrides: overrides, pending: map[int64]int{},
		seen:  newSeenCache(cfg.Store.DedupCache),
		agent: robots.ProductToken(cfg.Fetch.UserAgent),
	}
	e.seeds = cfg.Seeds
	if len(cfg.URLs) > 0 {
		e.listMode = true
		e.seeds = cfg.URLs
	}
	if e.scope, err = newScope(cfg, norm, e.seeds, policy); err != nil {
		return nil, err
	}
	if cfg.Recrawl.Enabled {
		if e.revisit, err = newRevisits(cfg.Recrawl); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// overrides returns the per-host politeness override for an origin.
func (e *Engine) overrides(origin string) (HostOverride, bool) {
	return e.hostOverrides.forOrigin(origin)
}

// robotsFromRecord rebuilds cached robots rules; nil means unreachable.
func (e *Engine) robotsFromRecord(status int, body []byte) (*robots.Robots, time.Duration) {
	r, avail := robots.FromResponse(status, body)
	if avail == robots.Unreachable {
		return nil, 0
	}
	return r, e.crawlDelay(r)
}

func (e *Engine) crawlDelay(r *robots.Robots) time.Duration {
	d, ok := r.CrawlDelay(e.agent)
	if !ok {
		return 0
	}
	return min(d, e.cfg.Politeness.MaxCrawlDelay)
}

// preflight checks a leased URL just before dispatch: robots.txt and the
// per-host budget, and for a revisit the scope and trap rules as they are
// now. It returns why the URL is skipped, or "".
func (e *Engine) preflight(h *host, l store.Lease) string {
	if max := e.cfg.Limits.MaxPagesPerHost; max > 0 && h.pages >= max && l.Prev == nil {
		return fmt.Sprintf("host page budget: max_pages_per_host %d reached", max)
	}
	if l.Unended > 10 {
		return fmt.Sprintf("leased %d times without an outcome: the crawler stopped during every attempt", l.Unended)
	}
	u, err := url.Parse(l.URL)
	if err != nil {
		return "unparsable URL"
	}
	if l.Prev != nil && !e.listMode {
		if why, _ := e.scope.recheck(l.URL, u, pathLen{depth: l.Depth, chain: l.Chain}); why != "" {
			return why
		}
	}
	if !e.cfg.Politeness.ObeyRobots || h.robots == nil {
		return ""
	}
	v := h.robots.Test(e.agent, u.RequestURI())
	if v.Allowed {
		return ""
	}
	if v.Rule == "" {
		return "robots.txt: disallowed"
	}
	return fmt.Sprintf("robots.txt: %q (line %d, group %q)", v.Rule, v.Line, v.Group)
}

// limitReached reports whether max_pages stops further dispatch.
func (e *Engine) limitReached(dispatched int) bool {
	max := e.cfg.Limits.MaxPages
	return max > 0 && e.pagesAtStart+dispatched >= max
}

// fail records the first fatal error (database errors) and stops the run.
func (e *Engine) fail(err error) {
	e.errOnce.Do(func() {
		e.err = err
		if e.cancel != nil {
			e.cancel(err)
		}
	})
}

func (e *Engine) sendResult(o store.Outcome) {
	e.results <- o
}

// outcomeDue counts an outcome of host that the writer will write.
func (e *Engine) outcomeDue(host int64) {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	e.countPending(host, 1)
}

// outcomesWritten counts the outcomes of batch as written (or dropped).
func (e *Engine) outcomesWritten(batch []store.Outcome) {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	for _, o := range batch {
		if o.Lease.ID != 0 {
			e.countPending(o.Lease.HostID, -1)
		}
	}
}

// countPending adds d to host's count of outcomes due; the caller holds
// pendingMu. An outcome written before its dispatch was counted leaves
// the count at -1 until then, not at zero: that would forget it, and the
// count would stay at one, so that the host is never released.
func (e *Engine) countPending(host int64, d int) {
	if n := e.pending[host] + d; n != 0 {
		e.pending[host] = n
	} else {
		delete(e.pending, host)
	}
}

// outcomesDue reports whether host has outcomes the writer has not
// written yet.
func (e *Engine) outcomesDue(host int64) bool {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	return e.pending[host] > 0
}

// settle counts n outcomes as committed (or dropped) and, when none is left,
// wakes the dispatch loop: the end of a crawl is noticed at its last commit,
// not at the next tick.
func (e *Engine) settle(n int64) {
	if e.uncommitted.Add(-n) == 0 {
		select {
		case e.drained <- struct{}{}:
		default:
		}
	}
}

// Snapshot returns a copy of the live stats.
func (e *Engine) Snapshot() Stats {
	e.statsMu.Lock()
	s := Stats{Started: e.stats.Started, Queued: e.stats.Queued, Hosts: e.stats.Hosts, Outcome: e.stats.Outcome,
		Dispatched: e.stats.Dispatched, Running: e.stats.Running, Waiting: e.stats.Waiting, Sleeping: e.stats.Sleeping,
		WakeAt: e.stats.WakeAt}
	e.statsMu.Unlock()
	s.Pages = atomic.LoadInt64(&e.stats.Pages)
	s.Fetches = atomic.LoadInt64(&e.stats.Fetches)
	s.Errors = atomic.LoadInt64(&e.stats.Errors)
	s.Skipped = atomic.LoadInt64(&e.stats.Skipped)
	s.Retries = atomic.LoadInt64(&e.stats.Retries)
	s.Bytes = atomic.LoadInt64(&e.stats.Bytes)
	s.Revisits = atomic.LoadInt64(&e.stats.Revisits)
	s.Unchanged = atomic.LoadInt64(&e.stats.Unchanged)
	s.NotModified = atomic.LoadInt64(&e.stats.NotModified)
	s.Uncommitted = e.uncommitted.Load()
	s.ErrorClasses = e.errs.load()
	for _, h := range e.hooks {
		s.Webhooks = append(s.Webhooks, h.State())
	}
	return s
}

// Seed adds the configured seeds (or URL list) to the frontier. URLs already
// known are left untouched, so seeding again on resume changes nothing.
func (e *Engine) Seed(ctx context.Context, extra []string) error {
	all := append(append([]string(nil), e.seeds...), extra...)
	var batch []store.NewURL
	for _, raw := range e.cfg.Sitemaps {
		c, err := e.norm.CanonicalString(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("sitemap %q: %w", raw, err)
		}
		u, _ := url.Parse(c)
		batch = append(batch, store.NewURL{URL: c, Source: sourceSitemap, State: store.StateQueued, Origin: origin(u)})
	}
	for _, raw := range all {
		n, err := e.seedRow(raw)
		if err != nil {
			return err
		}
		batch = append(batch, n)
	}
	for len(batch) > 0 {
		n := min(len(batch), 5000)
		if _, err := e.db.Add(ctx, batch[:n]); err != nil {
			return err
		}
		batch = batch[n:]
	}
	return nil
}

// seedRow is the frontier row of a seed (or a listed URL): queued, or
// skipped with the reason the scope gives (listed URLs are fetched
// whatever the scope).
func (e *Engine) seedRow(raw string) (store.NewURL, error) {
	c, err := e.norm.CanonicalString(strings.TrimSpace(raw))
	if err != nil {
		return store.NewURL{}, fmt.Errorf("seed %q: %w", raw, err)
	}
	u, _ := url.Parse(c)
	n := store.NewURL{URL: c, Source: "seed", State: store.StateQueued, Origin: origin(u)}
	if e.listMode {
		n.Source = "list"
	} else if why, _ := e.scope.check(c, u, pathLen{}); why != "" {
		n.State, n.Reason, n.Origin = store.StateSkipped, why, ""
	}
	return n, nil
}

// Run crawls until the frontier is exhausted, a limit is reached or ctx is
// cancelled. Cancellation stops dispatch, lets in-flight fetches finish
// (up to grace, then cancels them), releases unfetched leases and returns
// ErrInterrupted.
func (e *Engine) Run(ctx context.Context, grace time.Duration) (Outcome, error) {
	defer e.fetch.close()
	e.statsMu.Lock()
	e.stats.Started = time.Now()
	e.statsMu.Unlock()
	n, err := e.db.Recover(ctx)
	if err != nil {
		return OutcomeFailed, err
	}
	if err := e.db.SetInboundLinkIndex(ctx, e.cfg.Store.InboundLinkIndex); err != nil {
		return OutcomeFailed, err
	}
	if err := e.db.SetFullTextIndex(ctx, e.cfg.Parse.FullTextIndex); err != nil {
		return OutcomeFailed, err
	}
	if n > 0 {
		e.log.Info("reclaimed leases of an interrupted run", "urls", n)
	}
	if e.revisit != nil {
		n, err := e.db.ScheduleFetched(ctx, e.revisit.first)
		if err != nil {
			return OutcomeFailed, err
		}
		if n > 0 {
			e.log.Info("scheduled revisits of URLs fetched before recrawl was on", "urls", n)
		}
	}
	if e.pagesAtStart, err = e.db.CountPages(ctx); err != nil {
		return OutcomeFailed, err
	}
	feeds, err := e.openFeeds(ctx)
	if err != nil {
		return OutcomeFailed, err
	}
	defer feeds.close()
	if err := e.openWebhooks(); err != nil {
		return OutcomeFailed, err
	}
	hostname, _ := os.Hostname()
	if _, err := e.db.StartWorker(ctx, hostname, os.Getpid(), e.cfg.Politeness.HostLease); err != nil {
		return OutcomeFailed, err
	}
	runCtx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	e.cancel = cancel
	fetchCtx, stopFetches := context.WithCancel(context.Background())
	defer stopFetches()
	e.fetchCtx = fetchCtx

	workers := e.cfg.Workers
	e.jobs = make(chan job)
	e.done = make(chan done, workers)
	e.results = make(chan store.Outcome, workers*2)
	e.drained = make(chan struct{}, 1)

	s := newScheduler(e)
	var feedWG, workWG, writeWG sync.WaitGroup
	feedWG.Add(1)
	go func() { defer feedWG.Done(); s.feed(runCtx) }()
	writerNews := make(chan map[int64]int, 1024)
	writeWG.Add(1)
	go func() { defer writeWG.Done(); e.writer(runCtx, writerNews) }()
	var feedsWG sync.WaitGroup
	stopFeeds := make(chan struct{})
	feedsWG.Add(1)
	go func() { defer feedsWG.Done(); e.runFeeds(runCtx, feeds, stopFeeds) }()
	// Webhooks deliver on their own: a receiver that is down retries with
	// backoff and never holds the crawl.
	hookCtx, stopHooks := context.WithCancel(context.Background())
	defer stopHooks()
	var hooksWG sync.WaitGroup
	for i, h := range e.hooks {
		hooksWG.Add(1)
		go func() { defer hooksWG.Done(); h.run(hookCtx, e.hookWake[i]) }()
	}
	bodies, err := store.NewBodyCodec(e.cfg.Store.Bodies)
	if err != nil {
		return OutcomeFailed, err
	}
	defer bodies.Close()
	workWG.Add(workers)
	for i := 0; i < workers; i++ {
		w := &worker{e: e, client: e.fetch.newClient(), body: bodies.Encoder()}
		go func() { defer workWG.Done(); w.run(runCtx) }()
	}

	outcome := e.loop(ctx, runCtx, s, writerNews, grace, stopFetches)
	defer func() {
		e.statsMu.Lock()
		e.stats.Outcome = outcome
		e.statsMu.Unlock()
	}()

	// Stop: workers have no more jobs; wait for them, then the writer.
	close(e.jobs)
	workWG.Wait()
	for {
		select {
		case d := <-e.done:
			s.finished(d, s.now())
			continue
		default:
		}
		break
	}
	// Let the feeder finish the database work it holds (a claim or a host
	// activation may be under way) before collecting leases, so claims
	// that land now are released below rather than left leased. Stopping
	// keeps what those results do from asking for more.
	s.stopping = true
	s.stopFeeder()
	feedWG.Wait()
	if ls := s.leases(); len(ls) > 0 && runCtx.Err() == nil {
		for _, l := range ls {
			e.uncommitted.Add(1)
			e.results <- store.Outcome{Lease: l, State: store.StateQueued}
		}
	}
	close(e.results)
	writeWG.Wait()
	close(stopFeeds)
	feedsWG.Wait()
	if e.err == nil {
		// The last commits' records; a run that failed leaves them to the
		// next.
		if err := feeds.deliver(context.WithoutCancel(runCtx)); err != nil {
			e.fail(err)
		}
	}
	stopHooks()
	hooksWG.Wait()
	e.drainWebhooks()
	s.saveDirty()
	// The hosts go back to the crawl, for the other workers. A database
	// still unavailable gets a while: the leases run out by themselves.
	endCtx, endCancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer endCancel()
	if err := s.releaseAll(endCtx); err != nil {
		e.log.Warn("release host leases", "err", err)
	}
	if err := e.db.StopWorker(endCtx); err != nil {
		e.log.Warn("record the end of this worker", "err", err)
	}
	if e.err != nil {
		return OutcomeFailed, e.err
	}
	if outcome == OutcomeInterrupted {
		return outcome, ErrInterrupted
	}
	return outcome, nil
}

// loop is the scheduler's dispatch loop. It checks whether the run is over
// after every event (a fetch done, the writer drained, the feeder's answer),
// so the run ends with its last commit; the tick only drives housekeeping
// (sweep, activation, progress) and retries that come due.
// Its timers are wall-clock timers: the scheduler's clock is the wall clock
// here (tests drive the scheduler on a synthetic clock without this loop).
func (e *Engine) loop(ctx, runCtx context.Context, s *scheduler, news chan map[int64]int, grace time.Duration, stopFetches func()) Outcome {
	ticks := e.ticks
	if ticks == nil {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		ticks = tick.C
	}
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	// A continuous run with nothing due sleeps: no tick, no query, until
	// its alarm (the next URL due) or a stop.
	alarm := time.NewTimer(time.Hour)
	alarm.Stop()
	defer alarm.Stop()
	var alarmC <-chan time.Time
	var graceC <-chan time.Time
	checking := false  // a Pending query is out
	waiting := false   // Pending found URLs it cannot end on: ask again after a tick, a job or a commit
	sent := 0          // jobs handed to workers, to spot one sent while Pending ran
	retryWait := false // stats.Waiting is set
	lastProgress := s.now()
	report := func(now time.Time) {
		lastProgress = now
		s.saveDirty()
		snap := s.snapshot(now)
		e.statsMu.Lock()
		e.stats.Hosts = snap
		e.stats.Dispatched = s.dispatched
		e.stats.Running = s.longestRunning(5)
		e.statsMu.Unlock()
		e.Metrics.hosts(snap)
		if e.OnProgress != nil {
			e.OnProgress(e.Snapshot())
		}
	}
	// sleep stops the loop's ticks until the alarm at until (none when
	// until is zero: nothing is scheduled) or a stop; wakeUp starts them
	// again and looks for the work that came due.
	var wakeUp func()
	sleep := func(until time.Time) {
		waiting = true
		s.activateAt = until
		tickC := ticks
		ticks = nil
		alarmC = nil
		if !until.IsZero() {
			alarm.Reset(until.Sub(s.now()))
			alarmC = alarm.C
		}
		e.statsMu.Lock()
		e.stats.Sleeping, e.stats.WakeAt = true, until
		e.statsMu.Unlock()
		e.log.Info("nothing due: sleeping until the next URL is due", "until", until)
		report(s.now())
		wakeUp = func() {
			ticks, alarmC = tickC, nil
			alarm.Stop()
			e.statsMu.Lock()
			e.stats.Sleeping, e.stats.WakeAt = false, time.Time{}
			e.statsMu.Unlock()
			waiting = false
			s.activateAt = time.Time{}
			s.sweep()
			s.activate(s.now())
		}
	}
	s.activate(s.now())
	for {
		now := s.now()
		var jobs chan job
		var h *host
		var j job
		if !s.stopping && !e.outage.down.Load() {
			var at time.Time
			var ok bool
			h, j, at, ok = s.next(now)
			if ok {
				jobs = e.jobs
			} else if !at.IsZero() {
				wake.Reset(at.Sub(now))
			}
		}
		reqs, req := s.pending()
		select {
		case jobs <- j:
			s.sent(h, j, s.now())
			sent++
			if retryWait {
				retryWait = false
				e.statsMu.Lock()
				e.stats.Waiting = RetryWait{}
				e.statsMu.Unlock()
			}
			waiting = false
		case d := <-e.done:
			s.finished(d, s.now())
		case reqs <- req:
			s.handed()
		case apply := <-s.feederRes:
			apply()
		case m := <-news:
			s.newURLs(m)
		case <-e.drained:
			waiting = false
		case <-wake.C:
		case <-alarmC:
			wakeUp()
			e.log.Info("woke up: URLs are due")
		case <-ticks:
			now := s.now()
			waiting = false
			s.sweep()
			s.activate(now)
			if now.Sub(lastProgress) >= time.Second {
				report(now)
			}
		case <-ctx.Done():
			if !s.stopping {
				s.stopping = true
				e.log.Info("stopping: letting in-flight fetches finish", "grace", grace)
				graceC = time.After(grace)
				for _, hh := range s.hosts {
					s.update(hh, s.now())
				}
			}
			ctx = context.Background()
		case <-graceC:
			stopFetches()
		case <-runCtx.Done():
			stopFetches()
			return OutcomeFailed
		}
		if s.finishedAll {
			if e.limitReached(s.fresh) {
				return OutcomeLimit
			}
			return OutcomeFinished
		}
		// Outstanding outcomes count fetches in flight too, so this cheap
		// test keeps the host scans below out of a busy crawl.
		if e.uncommitted.Load() != 0 {
			continue
		}
		if s.stopping {
			if s.idleInFlight() {
				return OutcomeInterrupted
			}
			continue
		}
		if e.limitReached(s.fresh) && s.idleInFlight() && e.revisit == nil {
			return OutcomeLimit
		}
		if !checking && !waiting && s.idle() {
			checking = true
			asked := sent
			s.ask(func(ctx context.Context) func() {
				n, due, err := e.db.Pending(ctx)
				revisitHosts, nextRevisit := 0, time.Time{}
				if err == nil && e.revisit != nil {
					revisitHosts, nextRevisit, err = e.db.NextRevisit(ctx, time.Now())
				}
				return func() {
					checking = false
					if err != nil {
						e.fail(err)
						return
					}
					retryOnly := n > 0 && !due.IsZero() && due.After(s.now())
					retryWait = retryOnly
					e.statsMu.Lock()
					e.stats.Queued = n
					e.stats.Waiting = RetryWait{}
					if retryOnly {
						e.stats.Waiting = RetryWait{URLs: n, Next: due}
					}
					e.statsMu.Unlock()
					if e.limitReached(s.fresh) {
						// Only revisits are left to this run (recrawl is on:
						// without, the limit ended it before).
						n, due = 0, time.Time{}
					}
					idle := n == 0 && revisitHosts == 0 && sent == asked && s.idle() && e.uncommitted.Load() == 0
					switch {
					case idle && e.cfg.Recrawl.Continuous && !nextRevisit.IsZero() && nextRevisit.Sub(s.now()) < minSleep:
						// Due in a moment: wait awake, as for a retry.
						s.activateAt = nextRevisit
						waiting = true
					case idle && e.cfg.Recrawl.Continuous:
						sleep(nextRevisit)
					case idle:
						s.stopping = true
						s.finishedAll = true
					case n == 0 && revisitHosts == 0:
						// Work was handed out meanwhile: check again when it settles.
					case revisitHosts > 0:
						s.activateAt = time.Time{}
						waiting = true
					case !due.IsZero() && due.After(s.now()):
						s.activateAt = due
						waiting = true
					default:
						s.activateAt = time.Time{}
						waiting = true
					}
				}
			})
		}
	}
}

// minSleep is the shortest a continuous run sleeps: URLs due sooner are
// waited for awake, so that URLs due close together are fetched in one go.
const minSleep = time.Second

// idleInFlight reports whether no fetch is running.
func (s *scheduler) idleInFlight() bool {
	for _, h := range s.hosts {
		if h.inflight > 0 || h.robotsFetching {
			return false
		}
	}
	return true
}

// writer commits outcomes in batches: whatever has arrived while the
// previous transaction ran goes into the next one (group commit).
func (e *Engine) writer(ctx context.Context, news chan<- map[int64]int) {
	const maxBatch = 512
	batch := make([]store.Outcome, 0, maxBatch)
	for o := range e.results {
		batch = append(batch[:0], o)
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-e.results:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		if e.err != nil {
			e.outcomesWritten(batch)
			e.settle(int64(len(batch)))
			continue
		}
		res, err := e.db.Commit(context.WithoutCancel(ctx), batch)
		e.outcomesWritten(batch)
		if err != nil {
			e.fail(err)
			e.settle(int64(len(batch)))
			continue
		}
		states := map[string]int{}
		for _, o := range batch {
			if o.Lease.ID != 0 && (o.Attempted || o.State != store.StateQueued) {
				states[o.State]++
			}
			switch {
			case o.State == store.StateFailed:
				atomic.AddInt64(&e.stats.Errors, 1)
			case o.State == store.StateSkipped:
				atomic.AddInt64(&e.stats.Skipped, 1)
			case o.State == store.StateQueued && o.Attempted:
				atomic.AddInt64(&e.stats.Retries, 1)
			}
			if o.Page != nil && !o.NotModified {
				atomic.AddInt64(&e.stats.Bytes, int64(o.Page.Size))
			}
			if prev := o.Lease.Prev; prev != nil && o.Page != nil {
				atomic.AddInt64(&e.stats.Revisits, 1)
				if o.NotModified || prev.Same(o.Page) {
					atomic.AddInt64(&e.stats.Unchanged, 1)
				}
				if o.NotModified {
					atomic.AddInt64(&e.stats.NotModified, 1)
				}
			}
		}
		atomic.AddInt64(&e.stats.Pages, int64(res.Pages))
		e.Metrics.committed(res.Pages, states)
		if res.Pages > 0 {
			for _, c := range append(e.hookWake, e.committed) {
				select {
				case c <- struct{}{}:
				default: // a delivery is pending, which takes this commit too
				}
			}
		}
		if len(res.NewByHost) > 0 {
			select {
			case news <- res.NewByHost:
			default:
				// The scheduler is behind; its periodic activation finds these hosts.
			}
		}
		e.settle(int64(len(batch)))
	}
}

// openFeeds opens the feeds of the config at their recorded positions.
func (e *Engine) openFeeds(ctx context.Context) (*feedSet, error) {
	e.committed = make(chan struct{}, 1)
	if len(e.cfg.Feeds) == 0 {
		return &feedSet{}, nil
	}
	db, ok := e.store().(FeedStore)
	if !ok {
		return nil, fmt.Errorf("feeds: only the SQLite store records feed positions so far; this database is %T", e.store())
	}
	return openFeeds(ctx, db, e.cfg, e.FeedStdout)
}

// runFeeds delivers the records of each commit to the feeds until stop is
// closed or the run is cancelled. A delivery failing stops the run.
func (e *Engine) runFeeds(ctx context.Context, feeds *feedSet, stop <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-e.committed:
			if err := feeds.deliver(ctx); err != nil {
				if ctx.Err() == nil {
					e.fail(err)
				}
				return
			}
		}
	}
}

// openWebhooks prepares the config's webhooks.
func (e *Engine) openWebhooks() error {
	e.hooks, e.hookWake = nil, nil
	if len(e.cfg.Webhooks) == 0 {
		return nil
	}
	db, ok := e.store().(WebhookStore)
	if !ok {
		return fmt.Errorf("webhooks: only the SQLite store records delivery positions so far; this database is %T", e.store())
	}
	hooks, err := openWebhooks(e.cfg, db, e.log)
	if err != nil {
		return err
	}
	e.hooks = hooks
	for range hooks {
		e.hookWake = append(e.hookWake, make(chan struct{}, 1))
	}
	return nil
}

// drainWebhooks delivers what the run committed last, each webhook for at
// most its drain_timeout; what is left is delivered by the next run.
func (e *Engine) drainWebhooks() {
	var wg sync.WaitGroup
	for _, h := range e.hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.drain())
			defer cancel()
			if !h.deliverAll(ctx) {
				st := h.State()
				e.log.Warn("webhook: items left for the next run", "url", h.cfg.URL, "err", st.LastError)
			}
		}()
	}
	wg.Wait()
}

// store is the database under the engine's retries, for the interfaces
// beyond Store that it may implement (FeedStore, WebhookStore).
func (e *Engine) store() Store {
	if r, ok := e.db.(*retryStore); ok {
		return r.Store
	}
	return e.db
}
