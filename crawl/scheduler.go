package crawl

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/store"
)

// host is the scheduler's in-memory state for one active host. Only the
// scheduler goroutine touches it.
type host struct {
	id          int64
	origin      string
	lim         *rate.Limiter
	baseEvery   time.Duration // from config: 1/rate (0 = unlimited)
	maxInFlight int
	inflight    int
	queue       []store.Lease // claimed, not yet dispatched
	more        bool          // the database may hold more queued URLs
	claiming    bool          // a claim request is outstanding
	claimAfter  time.Time     // queued URLs wait for a retry time: claim again then

	robots         *robots.Robots
	robotsExpires  time.Time
	robotsFailures int
	robotsFetching bool
	crawlDelay     time.Duration
	lastSent       time.Time // when the last request was handed to a worker (or answered, if later)

	pausedUntil  time.Time // backoff / Retry-After / robots retry
	notBefore    time.Time // no request before: hosts.next_allowed_at as this run found it, or a late request's interval
	reserved     time.Time // hosts.next_allowed_at as written: requests up to reserved-interval are covered
	reserving    bool      // a reservation is being written
	reserveUntil time.Time // the reservation being written
	backoffLevel int
	lastBackoff  time.Time
	failures     int
	latency      time.Duration // smoothed
	savedLatency time.Duration // latency last persisted
	interval     time.Duration // current pacing interval
	pages        int
	reason       string // why it is slow or paused, for status and explain
	dirty        bool
	givenUp      bool

	// The host's lease (see store.HostToken): token, and when it ends
	// by the local clock (the database-time remainder at its last grant
	// or renewal, counted from before that was asked for).
	token    int64
	leaseEnd time.Time

	readyAt time.Time
	index   int // in the ready heap, -1 if absent
}

// readyHeap orders hosts by the time they may dispatch next.
type readyHeap []*host

func (h readyHeap) Len() int           { return len(h) }
func (h readyHeap) Less(i, j int) bool { return h[i].readyAt.Before(h[j].readyAt) }
func (h readyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *readyHeap) Push(x any) { hs := x.(*host); hs.index = len(*h); *h = append(*h, hs) }
func (h *readyHeap) Pop() any {
	old := *h
	hs := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	hs.index = -1
	return hs
}

// wants reports whether the host has something to dispatch now or later.
func (h *host) wants(obeyRobots bool, now time.Time) bool {
	if h.givenUp || h.inflight >= h.maxInFlight || h.reserving && !h.covered(now) {
		return false
	}
	if obeyRobots && (h.robots == nil || now.After(h.robotsExpires)) {
		return !h.robotsFetching && h.inflight == 0
	}
	return len(h.queue) > 0
}

// reserveAhead is how far past its next request a host's reservation
// reaches: a host with a delay is written about once per reserveAhead/2,
// and a crawler that crashed makes its successor wait at most this much
// longer than the host's interval.
const reserveAhead = 10 * time.Second

// reserveSlack covers the moment a job may wait for a worker before its
// request goes out.
const reserveSlack = time.Second

// covered reports whether a request sent now keeps hosts.next_allowed_at
// (as written) at least one interval after it. A host without a delay
// needs no reservation.
func (h *host) covered(now time.Time) bool {
	return h.interval <= 0 || !h.reserved.Before(now.Add(h.interval+reserveSlack))
}

// nextTime is the earliest time the host may send its next request.
func (h *host) nextTime(now time.Time) time.Time {
	t := now
	if h.pausedUntil.After(t) {
		t = h.pausedUntil
	}
	if h.notBefore.After(t) {
		t = h.notBefore
	}
	// A Crawl-delay is a gap between requests, whatever tokens the limiter
	// gathered at an earlier, faster pace (while robots.txt was read).
	if c := h.lastSent.Add(h.crawlDelay); h.crawlDelay > 0 && c.After(t) {
		t = c
	}
	if tok := h.lim.TokensAt(t); tok < 1 && h.lim.Limit() != rate.Inf {
		need := (1 - tok) / float64(h.lim.Limit())
		t = t.Add(time.Duration(need * float64(time.Second)))
	}
	return t
}

// scheduler owns host states and hands ready URLs to idle workers. It
// reads the time from now and randomises waits with jitter only, so that
// tests can drive it on a synthetic clock; Run gives it the wall clock.
type scheduler struct {
	e      *Engine
	now    func() time.Time
	jitter func(time.Duration) time.Duration
	hosts  map[int64]*host
	ready  readyHeap
	cursor int64 // round-robin position over hosts for activation

	// retired keeps recently retired hosts, so a host that comes back
	// (a redirect to it, a retry) keeps its limiter and backoff instead of
	// starting with a full burst. Bounded; evicted hosts persist their next
	// allowed time.
	retired      map[int64]*host
	retiredOrder []int64

	activating bool
	activateAt time.Time
	feederReq  chan func(context.Context) func()
	feederRes  chan func()
	backlog    []func(context.Context) func() // asked while feederReq was full, in order
	feederDone bool                           // feederReq is closed: ask runs work inline

	dispatched  int // page fetches handed to workers
	fresh       int // of those, first fetches: what limits.max_pages counts
	stopping    bool
	finishedAll bool

	toReserve    []*host // hosts waiting for their reservation to be written
	reservingNow bool    // a batch of reservations is being written

	running map[jobKey]Running // fetches handed to workers and not finished

	renewing  bool      // a renewal of the host leases is being written
	nextRenew time.Time // when the leases are renewed next
	lastRenew time.Time // when the last renewal was asked for
}

// jobKey identifies a job among those running: a page by its lease, a
// robots.txt by its host.
type jobKey struct {
	host, lease int64
}

func keyOf(j job) jobKey {
	if j.kind == jobRobots {
		return jobKey{host: j.hostID}
	}
	return jobKey{host: j.hostID, lease: j.lease.ID}
}

// feederQueue is how many requests wait for the feeder before the
// scheduler keeps them in its backlog.
const feederQueue = 64

func newScheduler(e *Engine) *scheduler {
	return &scheduler{
		e:         e,
		now:       time.Now,
		jitter:    jitter,
		hosts:     map[int64]*host{},
		retired:   map[int64]*host{},
		running:   map[jobKey]Running{},
		feederReq: make(chan func(context.Context) func(), feederQueue),
		feederRes: make(chan func(), 64),
	}
}

// feed runs database work for the scheduler off its goroutine. Each request
// returns a function the scheduler applies to its own state.
func (s *scheduler) feed(ctx context.Context) {
	for req := range s.feederReq {
		apply := req(ctx)
		if apply != nil {
			s.feederRes <- apply
		}
	}
	close(s.feederRes)
}

// ask queues database work; the scheduler never blocks on it. Work the
// feeder's queue has no room for waits in the backlog, which the dispatch
// loop hands on (see pending); requests reach the feeder in the order they
// were asked. Once the feeder has stopped (at shutdown) the work runs at
// once instead.
func (s *scheduler) ask(f func(context.Context) func()) {
	if s.feederDone {
		if apply := f(context.Background()); apply != nil {
			apply()
		}
		return
	}
	if len(s.backlog) == 0 {
		select {
		case s.feederReq <- f:
			return
		default:
		}
	}
	s.backlog = append(s.backlog, f)
}

// pending returns the feeder's queue and the first request of the backlog
// when there is one, for the dispatch loop to send; a nil channel otherwise.
func (s *scheduler) pending() (chan<- func(context.Context) func(), func(context.Context) func()) {
	if len(s.backlog) == 0 || s.feederDone {
		return nil, nil
	}
	return s.feederReq, s.backlog[0]
}

// handed records that the first request of the backlog went to the feeder.
func (s *scheduler) handed() {
	s.backlog[0] = nil
	s.backlog = s.backlog[1:]
}

// stopFeeder hands the backlog to the feeder, waits for it to run every
// request and applies their results, so that database work under way (a
// claim, a host activation) lands before the run collects its leases.
// Work asked from then on runs inline. The feeder goroutine returns.
func (s *scheduler) stopFeeder() {
	for len(s.backlog) > 0 {
		select {
		case s.feederReq <- s.backlog[0]:
			s.handed()
		case apply := <-s.feederRes:
			apply()
		}
	}
	close(s.feederReq)
	s.feederDone = true
	for apply := range s.feederRes {
		apply()
	}
}

func (s *scheduler) newHost(row store.HostRow) *host {
	cfg := s.e.cfg.Politeness
	r, burst, inflight := cfg.Rate, cfg.Burst, cfg.MaxInFlight
	if o, ok := s.e.overrides(row.Origin); ok {
		if o.Rate > 0 {
			r = o.Rate
		}
		if o.Burst > 0 {
			burst = o.Burst
		}
		if o.MaxInFlight > 0 {
			inflight = o.MaxInFlight
		}
	}
	h := &host{id: row.ID, origin: row.Origin, maxInFlight: inflight, more: true, index: -1,
		backoffLevel: row.BackoffLevel, failures: row.Failures, latency: time.Duration(row.LatencyMS) * time.Millisecond,
		robotsFailures: row.RobotsFailures}
	lim := rate.Inf
	if r > 0 {
		h.baseEvery = time.Duration(float64(time.Second) / r)
		lim = rate.Every(h.baseEvery)
	}
	h.lim = rate.NewLimiter(lim, burst)
	h.interval = h.baseEvery
	if row.NextFetchAt > 0 {
		h.pausedUntil = time.UnixMilli(row.NextFetchAt)
	}
	if row.NextAllowedAt > 0 {
		// The last run may have sent a request up to an interval before this.
		h.notBefore = time.UnixMilli(row.NextAllowedAt)
		h.reserved = h.notBefore
	}
	if row.Reason != "" {
		h.reason = row.Reason
	}
	if row.RobotsStatus.Valid && row.RobotsExpiresAt > s.now().UnixMilli() {
		h.robotsExpires = time.UnixMilli(row.RobotsExpiresAt)
		h.robots, h.crawlDelay = s.e.robotsFromRecord(int(row.RobotsStatus.Int64), row.RobotsBody)
		if h.robots == nil {
			h.robotsExpires = time.Time{}
		}
	}
	s.repace(h, s.now())
	return h
}

// repace recomputes the host's pacing interval from config, Crawl-delay and
// observed latency (slow server, slower crawl) and applies it to the limiter.
func (s *scheduler) repace(h *host, now time.Time) {
	cfg := s.e.cfg.Politeness
	iv := h.baseEvery
	why := ""
	if h.crawlDelay > iv {
		iv, why = h.crawlDelay, fmt.Sprintf("Crawl-delay %v", h.crawlDelay)
	}
	if cfg.LatencyFactor > 0 && h.baseEvery > 0 {
		if lat := time.Duration(float64(h.latency) * cfg.LatencyFactor); lat > iv {
			iv, why = lat, fmt.Sprintf("slow responses (%v)", h.latency.Round(time.Millisecond))
		}
	}
	if iv != h.interval {
		h.interval = iv
		if iv == 0 {
			h.lim.SetLimitAt(now, rate.Inf)
		} else {
			h.lim.SetLimitAt(now, rate.Every(iv))
		}
		h.dirty = true
	}
	if why != "" && h.pausedUntil.Before(now) {
		h.reason = "paced by " + why
	}
}

// update puts h into (or out of) the ready heap at its next time.
func (s *scheduler) update(h *host, now time.Time) {
	if !h.wants(s.e.cfg.Politeness.ObeyRobots, now) || s.stopping {
		if h.index >= 0 {
			heap.Remove(&s.ready, h.index)
		}
		return
	}
	h.readyAt = h.nextTime(now)
	if h.index >= 0 {
		heap.Fix(&s.ready, h.index)
	} else {
		heap.Push(&s.ready, h)
	}
}

// next pops the first host ready now and builds its job, or reports when
// the next host will be ready.
func (s *scheduler) next(now time.Time) (*host, job, time.Time, bool) {
	for s.ready.Len() > 0 {
		h := s.ready[0]
		if h.readyAt.After(now) {
			return nil, job{}, h.readyAt, false
		}
		if !h.wants(s.e.cfg.Politeness.ObeyRobots, now) {
			heap.Pop(&s.ready)
			continue
		}
		if t := h.nextTime(now); t.After(now) {
			h.readyAt = t
			heap.Fix(&s.ready, 0)
			continue
		}
		if s.e.limitReached(s.fresh) {
			if s.e.revisit == nil {
				// No robots.txt either: it would only serve pages not fetched.
				return nil, job{}, time.Time{}, false
			}
			// Revisits go on; the first fetches claimed go back.
			if s.dropFresh(h, now) {
				continue
			}
		}
		if !h.covered(now) {
			// Not before the host's next allowed time is written: a
			// crawler started after a crash would not know of this request.
			s.reserve(h, now)
			heap.Pop(&s.ready)
			continue
		}
		if h.interval > 0 && h.reserved.Sub(now.Add(h.interval+reserveSlack)) < reserveAhead/2 {
			s.reserve(h, now) // before it runs out, so the host need not wait
		}
		if need := s.e.cfg.hostLeaseNeed(h.interval) + reserveSlack; h.leaseEnd.Sub(now) < need {
			// No request unless the host's lease outlives it and the
			// host's delay after it: renew first.
			s.renewSoon(now)
			heap.Pop(&s.ready)
			continue
		}
		if s.e.cfg.Politeness.ObeyRobots && (h.robots == nil || now.After(h.robotsExpires)) {
			return h, job{kind: jobRobots, origin: h.origin, hostID: h.id}, time.Time{}, true
		}
		l := h.queue[0]
		if why := s.e.preflight(h, l); why != "" {
			// Skipped without a request: no token spent.
			h.queue = h.queue[1:]
			s.e.uncommitted.Add(1)
			s.e.outcomeDue(h.id)
			s.e.sendResult(store.Outcome{Lease: l, State: store.StateSkipped, Reason: why})
			s.refill(h)
			s.update(h, now)
			continue
		}
		return h, job{kind: jobPage, lease: l, origin: h.origin, hostID: h.id}, time.Time{}, true
	}
	return nil, job{}, time.Time{}, false
}

// dispatched records that j went to a worker.
func (s *scheduler) sent(h *host, j job, now time.Time) {
	h.lim.AllowN(now, 1)
	h.lastSent = now
	h.inflight++
	if j.kind == jobRobots {
		h.robotsFetching = true
		s.running[keyOf(j)] = Running{URL: j.origin + "/robots.txt", Since: now}
	} else {
		s.running[keyOf(j)] = Running{URL: j.lease.URL, Since: now}
		s.e.outcomeDue(h.id)
		h.queue = h.queue[1:]
		s.dispatched++
		if j.lease.Prev == nil {
			s.fresh++
		}
	}
	s.refill(h)
	s.update(h, now)
}

// reserve has h's next allowed time written to cover requests until
// reserveAhead from now; requests made while a batch is being written go
// together in the next.
func (s *scheduler) reserve(h *host, now time.Time) {
	if h.reserving {
		return
	}
	h.reserving = true
	h.reserveUntil = now.Add(h.interval + reserveAhead)
	s.toReserve = append(s.toReserve, h)
	s.writeReservations()
}

func (s *scheduler) writeReservations() {
	if s.reservingNow || len(s.toReserve) == 0 {
		return
	}
	batch := s.toReserve
	s.toReserve = nil
	s.reservingNow = true
	rows := make([]store.HostReservation, len(batch))
	for i, h := range batch {
		rows[i] = store.HostReservation{ID: h.id, Until: h.reserveUntil}
	}
	s.ask(func(ctx context.Context) func() {
		err := s.e.db.ReserveHosts(ctx, rows)
		return func() {
			s.reservingNow = false
			if err != nil {
				s.e.fail(err)
				return
			}
			now := s.now()
			for _, h := range batch {
				h.reserving = false
				if h.reserveUntil.After(h.reserved) {
					h.reserved = h.reserveUntil
				}
				if s.hosts[h.id] == h {
					s.update(h, now)
				}
			}
			s.writeReservations()
		}
	})
}

// refill asks the feeder for more URLs when the host's buffer runs low.
// Nothing is claimed for a host whose robots.txt has not been read yet: a
// host that turns out unreachable would only hand its leases back.
func (s *scheduler) refill(h *host) {
	want := max(s.e.cfg.Politeness.HostQueue, h.maxInFlight*4)
	if h.claiming || !h.more || h.givenUp || len(h.queue) > want/2 || s.stopping || s.now().Before(h.claimAfter) {
		return
	}
	if s.e.cfg.Politeness.ObeyRobots && h.robots == nil {
		return
	}
	h.claiming = true
	tok, n, lease := store.HostToken{ID: h.id, Token: h.token}, want-len(h.queue), s.e.cfg.Politeness.LeaseDuration
	revisits, fresh := s.e.revisit != nil, !s.e.limitReached(s.fresh)
	s.ask(func(ctx context.Context) func() {
		ls, due, err := s.claim(ctx, tok, n, lease, revisits, fresh)
		return func() {
			h.claiming = false
			if errors.Is(err, store.ErrHostLost) {
				s.lose(h, tok.Token)
				return
			}
			if err != nil {
				s.e.fail(err)
				return
			}
			if h.givenUp {
				// GiveUpHost, queued after this claim, fails these rows.
				s.maybeRetire(h)
				return
			}
			h.queue = append(h.queue, ls...)
			// A short claim means the host's due URLs are exhausted; any
			// left wait for a retry time or a revisit, when the sweep
			// claims again.
			h.more = len(ls) == n || !due.IsZero()
			h.claimAfter = due
			s.update(h, s.now())
			s.maybeRetire(h)
		}
	})
}

// activate asks the feeder for hosts with queued URLs that are not
// active: for the free slots (max_active_hosts), or, when none is free,
// for the slots of hosts held that only wait for a retry time, which
// hand them over (see makeRoom).
func (s *scheduler) activate(now time.Time) {
	fresh := !s.e.limitReached(s.fresh)
	if s.activating || s.stopping || now.Before(s.activateAt) || !fresh && s.e.revisit == nil {
		return
	}
	limit := s.e.cfg.Politeness.MaxActiveHosts - len(s.hosts)
	if limit <= 0 {
		limit = len(s.waitingForRetry(now))
	}
	if limit <= 0 {
		return
	}
	s.activating = true
	after := s.cursor
	revisits := s.e.revisit != nil
	limit = min(limit, 512)
	ttl := s.e.cfg.Politeness.HostLease
	s.ask(func(ctx context.Context) func() {
		asked := s.now()
		q := store.HostQuery{After: after, Limit: limit, Revisits: revisits, RevisitsOnly: !fresh}
		rows, err := s.e.db.LeaseHosts(ctx, q, ttl)
		return func() {
			s.activating = false
			if err != nil {
				s.e.fail(err)
				return
			}
			wanted := s.makeRoom(rows)
			s.adopt(wanted, asked)
			if len(rows) == limit {
				s.cursor = rows[len(rows)-1].ID
			} else {
				s.cursor = 0
				if after == 0 {
					// A full pass found everything there is: wait for news.
					s.activateAt = s.now().Add(time.Second)
				}
			}
			if len(wanted) == 0 && len(rows) > 0 {
				// Only hosts known to wait for a retry: not again at once.
				s.activateAt = s.now().Add(time.Second)
			}
		}
	})
}

// claim leases up to n URLs of a host for the feeder: URLs due for a
// revisit first (when revisits is set), then queued ones (when fresh is
// set, that is, when limits.max_pages allows first fetches). When fewer
// than n are due, it also returns when the next one is.
func (s *scheduler) claim(ctx context.Context, h store.HostToken, n int, lease time.Duration, revisits, fresh bool) ([]store.Lease, time.Time, error) {
	var ls []store.Lease
	var due time.Time
	if revisits {
		var err error
		if ls, due, err = s.e.db.ClaimRevisits(ctx, h, n, lease); err != nil {
			return nil, time.Time{}, err
		}
	}
	if !fresh || len(ls) == n {
		return ls, due, nil
	}
	more, next, err := s.e.db.Claim(ctx, h, n-len(ls), lease)
	if err != nil {
		// The revisits claimed are leased; they return to the queue when
		// the failed run's leases are recovered.
		return nil, time.Time{}, err
	}
	if due.IsZero() || !next.IsZero() && next.Before(due) {
		due = next
	}
	return append(ls, more...), due, nil
}

// dropFresh returns the first fetches claimed for h to the queue, once
// limits.max_pages stops them, keeping its revisits. It reports whether h
// has nothing left to dispatch now (it is then out of the ready heap).
func (s *scheduler) dropFresh(h *host, now time.Time) bool {
	kept := h.queue[:0]
	for _, l := range h.queue {
		if l.Prev != nil {
			kept = append(kept, l)
			continue
		}
		s.e.uncommitted.Add(1)
		s.e.outcomeDue(h.id)
		s.e.sendResult(store.Outcome{Lease: l, State: store.StateQueued})
	}
	clear(h.queue[len(kept):])
	h.queue = kept
	if len(h.queue) > 0 {
		return false
	}
	s.update(h, now)
	if h.index >= 0 {
		heap.Remove(&s.ready, h.index)
	}
	return true
}

// retryHold is how soon a host's retry must be due for the host to keep
// its slot while other hosts wait for one: handing it over and leasing
// the host again costs a few transactions, not worth a shorter wait.
const retryHold = time.Second

// waitingForRetry returns the hosts held that have nothing to do until a
// retry time further than retryHold away: everything of theirs that is
// due was fetched and written, and what is left waits.
func (s *scheduler) waitingForRetry(now time.Time) []*host {
	var out []*host
	for _, h := range s.hosts {
		if s.waitsForRetry(h, now) {
			out = append(out, h)
		}
	}
	return out
}

func (s *scheduler) waitsForRetry(h *host, now time.Time) bool {
	return s.quiet(h) && h.more && !h.givenUp && h.claimAfter.Sub(now) > retryHold
}

// quiet reports whether nothing of h is under way: no request, no claim,
// no URL claimed and not sent, no outcome the writer has not written.
func (s *scheduler) quiet(h *host) bool {
	return h.inflight == 0 && !h.claiming && len(h.queue) == 0 && !h.robotsFetching && !s.e.outcomesDue(h.id)
}

// makeRoom fits hosts just leased into the slots of max_active_hosts:
// hosts held that only wait for a retry hand theirs over, one for each
// host leased that may have URLs due. It returns the hosts to adopt; the
// others (no slot left, or a host this worker retired because it waits
// for a retry while other hosts want its slot) go back at once.
func (s *scheduler) makeRoom(rows []store.HostRow) []store.HostRow {
	now := s.now()
	var renewed, fresh, back []store.HostRow
	for _, r := range rows {
		switch h, ok := s.retired[r.ID]; {
		case s.hosts[r.ID] != nil:
			renewed = append(renewed, r) // held already: takes no slot
		case ok && h.more && h.claimAfter.Sub(now) > retryHold:
			back = append(back, r)
		default:
			fresh = append(fresh, r)
		}
	}
	// A host retired while it waited takes a slot nobody else wants (the
	// database may know of work its retired state does not: revisits come
	// due, new URLs), but never one another host is waiting for.
	if free := s.e.cfg.Politeness.MaxActiveHosts - len(s.hosts) - len(fresh); free > 0 {
		n := min(free, len(back))
		fresh = append(fresh, back[:n]...)
		back = back[n:]
	}
	if over := len(s.hosts) + len(fresh) - s.e.cfg.Politeness.MaxActiveHosts; over > 0 {
		waiting := s.waitingForRetry(now)
		// The host whose retry is furthest off goes first.
		slices.SortFunc(waiting, func(a, b *host) int { return b.claimAfter.Compare(a.claimAfter) })
		for _, h := range waiting[:min(over, len(waiting))] {
			s.retire(h, now)
		}
		if free := max(s.e.cfg.Politeness.MaxActiveHosts-len(s.hosts), 0); len(fresh) > free {
			back = append(back, fresh[free:]...)
			fresh = fresh[:free]
		}
	}
	if len(back) > 0 {
		held := make([]store.HostRelease, len(back))
		for i, r := range back {
			held[i] = store.HostRelease{HostToken: store.HostToken{ID: r.ID, Token: r.Token}}
		}
		s.ask(func(ctx context.Context) func() {
			if err := s.e.db.ReleaseHosts(ctx, held); err != nil {
				return func() { s.e.fail(err) }
			}
			return nil
		})
	}
	return append(renewed, fresh...)
}

// sweep runs on every tick: it claims for hosts whose retries came due and
// retires hosts with nothing left, so no wake-up can be lost.
func (s *scheduler) sweep() {
	s.renew(s.now())
	for _, h := range s.hosts {
		s.refill(h)
		s.maybeRetire(h)
	}
}

// maybeRetire drops an idle, exhausted host from memory. A host whose
// URLs all wait for a retry time is retired too if that time is far off
// (a nearer one hands its slot over when another host wants it: see
// makeRoom).
func (s *scheduler) maybeRetire(h *host) {
	if !s.quiet(h) {
		return
	}
	now := s.now()
	if h.more && !h.givenUp && (h.claimAfter.IsZero() || h.claimAfter.Sub(now) < time.Minute) {
		return
	}
	s.retire(h, now)
}

// retire drops h, which is quiet, from memory and releases its lease; it
// is kept among the retired hosts unless given up.
func (s *scheduler) retire(h *host, now time.Time) {
	if h.index >= 0 {
		heap.Remove(&s.ready, h.index)
	}
	delete(s.hosts, h.id)
	if h.dirty {
		s.save([]*host{h})
	}
	s.release(h)
	if h.givenUp {
		return
	}
	const maxRetired = 8192
	s.retired[h.id] = h
	s.retiredOrder = append(s.retiredOrder, h.id)
	for len(s.retiredOrder) > maxRetired {
		id := s.retiredOrder[0]
		s.retiredOrder = s.retiredOrder[1:]
		old, ok := s.retired[id]
		if !ok {
			continue
		}
		delete(s.retired, id)
		if next := old.nextTime(now); next.After(old.pausedUntil) && next.After(now) {
			old.pausedUntil = next
			s.save([]*host{old})
		}
	}
}

// newURLs is the writer's news: hosts that gained queued URLs.
func (s *scheduler) newURLs(byHost map[int64]int) {
	var ids []int64
	for id := range byHost {
		if h, ok := s.retired[id]; ok {
			h.claimAfter = time.Time{} // URLs due now, not only a retry
		}
		if h, ok := s.hosts[id]; ok {
			h.more = true
			s.refill(h)
		} else if len(s.hosts)+len(ids) < s.e.cfg.Politeness.MaxActiveHosts && !s.stopping {
			ids = append(ids, id)
		} else {
			s.activateAt = time.Time{}
		}
	}
	if len(ids) == 0 {
		return
	}
	ttl := s.e.cfg.Politeness.HostLease
	s.ask(func(ctx context.Context) func() {
		asked := s.now()
		rows, err := s.e.db.LeaseHosts(ctx, store.HostQuery{IDs: ids, Limit: len(ids)}, ttl)
		return func() {
			if err != nil {
				s.e.fail(err)
				return
			}
			s.adopt(rows, asked)
		}
	})
}

// adopt makes hosts active: rows are hosts leased to this worker, asked
// for at asked.
func (s *scheduler) adopt(rows []store.HostRow, asked time.Time) {
	now := s.now()
	for _, r := range rows {
		if old, ok := s.hosts[r.ID]; ok {
			// Held already: the lease ran out before a renewal (a host
			// cannot be leased twice). Keep the newer lease. What was
			// claimed under the old one is back in the queue of the
			// database, and its outcome would be refused as stale: claim
			// it again rather than fetch it twice.
			if old.token != r.Token && len(old.queue) > 0 {
				clear(old.queue)
				old.queue = old.queue[:0]
				old.more = true
			}
			old.token, old.leaseEnd = r.Token, asked.Add(r.LeaseLeft)
			s.refill(old)
			s.update(old, now)
			continue
		}
		h, ok := s.retired[r.ID]
		if ok {
			delete(s.retired, r.ID)
			h.more, h.claimAfter = true, time.Time{}
			// Another worker may have held the host meanwhile: then its
			// reservation is past this worker's own.
			if t := time.UnixMilli(r.NextAllowedAt); r.NextAllowedAt > 0 && t.After(h.reserved) {
				h.notBefore, h.reserved = t, t
			}
			if t := time.UnixMilli(r.NextFetchAt); r.NextFetchAt > 0 && t.After(h.pausedUntil) {
				h.pausedUntil = t
			}
		} else {
			h = s.newHost(r)
		}
		h.token, h.leaseEnd = r.Token, asked.Add(r.LeaseLeft)
		s.hosts[r.ID] = h
		if s.stopping || r.State != "active" {
			s.maybeRetire(h)
			continue
		}
		s.refill(h)
		s.update(h, now)
	}
}

// renewSoon renews the host leases now rather than at their time, unless
// a renewal was asked for within the last second.
func (s *scheduler) renewSoon(now time.Time) {
	if next := s.lastRenew.Add(time.Second); next.Before(s.nextRenew) {
		s.nextRenew = next
	}
	s.renew(now)
}

// renew extends the leases of the hosts held, every third of the lease
// (and when renewSoon asks), which also records the worker's heartbeat.
// A host whose lease is lost is dropped.
func (s *scheduler) renew(now time.Time) {
	if s.renewing || now.Before(s.nextRenew) {
		return
	}
	ttl := s.e.cfg.Politeness.HostLease
	var held []store.HostToken
	hosts := map[int64]*host{}
	for _, h := range s.hosts {
		if h.token != 0 {
			held = append(held, store.HostToken{ID: h.id, Token: h.token})
			hosts[h.id] = h
		}
	}
	s.renewing = true
	s.lastRenew = now
	s.nextRenew = now.Add(ttl / 3)
	s.ask(func(ctx context.Context) func() {
		asked := s.now()
		left, err := s.e.db.RenewHosts(ctx, held, ttl)
		return func() {
			s.renewing = false
			if err != nil {
				s.e.fail(err)
				return
			}
			now := s.now()
			for _, t := range held {
				h := hosts[t.ID]
				if h.token != t.Token {
					continue // released or leased anew meanwhile
				}
				d, ok := left[t.ID]
				if !ok {
					s.lose(h, t.Token)
					continue
				}
				h.leaseEnd = asked.Add(d)
				if s.hosts[h.id] == h {
					s.update(h, now)
				}
			}
		}
	})
}

// lose drops a host whose lease (token) another worker took over, or
// that ran out: what it had claimed is the new holder's, and the outcomes
// of its fetches in flight will be refused as stale.
func (s *scheduler) lose(h *host, token int64) {
	if h.token != token || h.token == 0 {
		return
	}
	s.e.log.Warn("lost the lease on a host: another worker took it over", "host", h.origin)
	h.token = 0
	h.queue = nil
	h.more = false
	if h.index >= 0 {
		heap.Remove(&s.ready, h.index)
	}
	if s.hosts[h.id] == h {
		delete(s.hosts, h.id)
	}
}

// release ends this worker's lease on h, retired once the writer has
// written every outcome of it: URLs still leased under it then are claims
// whose answer the database lost, and return to the queue.
func (s *scheduler) release(h *host) {
	if h.token == 0 {
		return
	}
	t := store.HostRelease{HostToken: store.HostToken{ID: h.id, Token: h.token}}
	h.token = 0
	if !h.reserving && h.interval > 0 && !h.lastSent.IsZero() {
		// The reservation reaches past requests that will not be sent
		// under this lease: bring it back to just cover one more request
		// at the host's next allowed time, so that the next holder waits
		// at most an interval longer than the host asks (this worker, if
		// it leases the host again, sends that request without waiting
		// for a reservation).
		next := h.lastSent.Add(max(h.interval, h.crawlDelay))
		next = next.Add(h.interval + reserveSlack)
		if next.Before(h.reserved) {
			t.NextAllowedAt = next
			h.reserved = next
		}
	}
	s.ask(func(ctx context.Context) func() {
		if err := s.e.db.ReleaseHosts(ctx, []store.HostRelease{t}); err != nil {
			return func() { s.e.fail(err) }
		}
		return nil
	})
}

// releaseAll ends the leases of every host held, at the end of a run,
// once the feeder has stopped.
func (s *scheduler) releaseAll(ctx context.Context) error {
	var held []store.HostRelease
	for _, h := range s.hosts {
		if h.token != 0 {
			held = append(held, store.HostRelease{HostToken: store.HostToken{ID: h.id, Token: h.token}})
			h.token = 0
		}
	}
	return s.e.db.ReleaseHosts(ctx, held)
}

// finished handles a worker's report: politeness bookkeeping for the host.
func (s *scheduler) finished(d done, now time.Time) {
	run, wasRunning := s.running[keyOf(d.job)]
	delete(s.running, keyOf(d.job))
	h, ok := s.hosts[d.job.hostID]
	if !ok {
		return
	}
	h.inflight--
	if wasRunning && d.answerLag > 0 && h.lim.Burst() <= 1 {
		// The host saw the request at some moment up to its answer, later
		// than its dispatch on a busy machine: it hears the next one no
		// sooner than its interval after the answer (unless a burst
		// allows requests back to back).
		seen := run.Since.Add(d.answerLag)
		if seen.After(h.lastSent) {
			h.lastSent = seen
		}
		if t := seen.Add(h.interval); t.After(h.notBefore) {
			h.notBefore = t
		}
	}
	if d.job.kind == jobRobots {
		s.robotsDone(h, d, now)
	}
	cfg := s.e.cfg.Politeness
	if d.latency > 0 && d.class != classHostDown {
		if h.latency == 0 {
			h.latency = d.latency
		} else {
			h.latency = (h.latency*7 + d.latency*3) / 10
		}
		// Persist the smoothed latency when it moves by a fifth, so
		// "crawler hosts" shows it for healthy hosts too.
		if diff := h.latency - h.savedLatency; diff > h.savedLatency/5 || -diff > h.savedLatency/5 {
			h.savedLatency = h.latency
			h.dirty = true
		}
	}
	switch d.class {
	case classThrottled:
		h.backoffLevel++
		h.lastBackoff = now
		wait := d.retryAfter
		why := fmt.Sprintf("HTTP %d with Retry-After %v", d.status, wait)
		if wait <= 0 {
			wait = s.backoff(h.backoffLevel)
			why = fmt.Sprintf("HTTP %d, backing off %v (level %d)", d.status, wait.Round(time.Millisecond), h.backoffLevel)
		}
		wait = min(wait, cfg.MaxRetryAfter)
		h.pausedUntil = now.Add(wait)
		h.reason = why
		h.dirty = true
	case classHostDown:
		h.failures++
		h.dirty = true
		if h.failures >= cfg.HostFailures {
			s.giveUp(h, fmt.Sprintf("host unreachable: %d consecutive connection failures or unanswered requests", h.failures))
			return
		}
		wait := s.backoff(h.failures)
		h.pausedUntil = now.Add(wait)
		h.reason = fmt.Sprintf("connection failures or unanswered requests (%d), paused %v", h.failures, wait.Round(time.Millisecond))
	case classOK, classPermanent, classTransient:
		if h.failures > 0 {
			h.failures = 0
			h.dirty = true
		}
		// Forgive one level of backoff after a quiet period without throttling.
		if h.backoffLevel > 0 && now.Sub(h.lastBackoff) > cfg.BackoffBase*4 {
			h.backoffLevel--
			h.lastBackoff = now
			h.dirty = true
		}
		if d.page {
			h.pages++
		}
	}
	s.repace(h, now)
	s.update(h, now)
	s.maybeRetire(h)
}

// backoff is the pause after the n-th failure in a row: backoff_base
// doubled n-1 times, at most backoff_max, jittered.
func (s *scheduler) backoff(n int) time.Duration {
	cfg := s.e.cfg.Politeness
	return s.jitter(min(cfg.BackoffBase<<min(n-1, 20), cfg.BackoffMax))
}

func (s *scheduler) robotsDone(h *host, d done, now time.Time) {
	h.robotsFetching = false
	r := d.robots
	if d.class == classCanceled || r == nil {
		return
	}
	rec := store.RobotsRecord{Status: r.status, Body: r.body, Err: r.err, FetchedAt: r.fetchedAt}
	if r.avail != robots.Unreachable {
		h.robots = r.rules
		h.robotsFailures = 0
		h.robotsExpires = now.Add(s.e.cfg.Politeness.RobotsTTL)
		h.crawlDelay = s.e.crawlDelay(r.rules)
		if h.crawlDelay > 0 {
			h.reason = fmt.Sprintf("paced by Crawl-delay %v", h.crawlDelay)
		}
		rec.ExpiresAt = h.robotsExpires
		if maps := s.e.sitemapURLs(h.origin, r.rules.Sitemaps()); len(maps) > 0 {
			s.e.uncommitted.Add(1)
			s.e.sendResult(store.Outcome{Discovered: maps})
		}
		s.refill(h)
	} else {
		// Unreachable (429, 5xx, network): disallow all for now, try again later.
		h.robotsFailures++
		rec.Failures = h.robotsFailures
		if h.robotsFailures >= s.e.cfg.Politeness.RobotsRetries {
			s.saveRobots(h.id, rec)
			s.giveUp(h, fmt.Sprintf("robots.txt unavailable (%s) after %d attempts", r.describe(), h.robotsFailures))
			return
		}
		if d.class != classThrottled {
			wait := s.backoff(h.robotsFailures)
			h.pausedUntil = now.Add(wait)
		}
		h.reason = fmt.Sprintf("robots.txt unavailable (%s): disallow all, retry at %s", r.describe(), h.pausedUntil.Format(time.TimeOnly))
		rec.ExpiresAt = now
	}
	s.saveRobots(h.id, rec)
}

func (r *robotsResult) describe() string {
	if r.err != "" {
		return r.err
	}
	return fmt.Sprintf("HTTP %d", r.status)
}

func (s *scheduler) saveRobots(id int64, rec store.RobotsRecord) {
	s.ask(func(ctx context.Context) func() {
		if err := s.e.db.SaveRobots(ctx, id, rec); err != nil {
			return func() { s.e.fail(err) }
		}
		return nil
	})
}

// giveUp fails every remaining URL of a host with reason.
func (s *scheduler) giveUp(h *host, reason string) {
	h.givenUp = true
	h.reason = reason
	h.queue = nil
	h.more = false
	if h.index >= 0 {
		heap.Remove(&s.ready, h.index)
	}
	s.e.log.Warn("giving up on host", "host", h.origin, "reason", reason)
	id := h.id
	s.ask(func(ctx context.Context) func() {
		_, err := s.e.db.GiveUpHost(ctx, id, reason)
		return func() {
			if err != nil {
				s.e.fail(err)
			}
			s.maybeRetire(h)
		}
	})
}

// save persists politeness state of hosts.
func (s *scheduler) save(hs []*host) {
	var rows []store.HostPoliteness
	for _, h := range hs {
		rows = append(rows, store.HostPoliteness{ID: h.id, NextFetchAt: h.pausedUntil, BackoffLevel: h.backoffLevel,
			Failures: h.failures, Delay: h.interval, Latency: h.latency, CrawlDelay: h.crawlDelay, Reason: h.reason})
		h.dirty = false
	}
	s.ask(func(ctx context.Context) func() {
		if err := s.e.db.SaveHosts(ctx, rows); err != nil {
			return func() { s.e.fail(err) }
		}
		return nil
	})
}

func (s *scheduler) saveDirty() {
	var hs []*host
	for _, h := range s.hosts {
		if h.dirty {
			hs = append(hs, h)
		}
	}
	if len(hs) > 0 {
		s.save(hs)
	}
}

// idle reports whether nothing is in memory: no buffered, claimed or in-flight work.
func (s *scheduler) idle() bool {
	if s.activating || s.reservingNow {
		return false
	}
	for _, h := range s.hosts {
		if h.inflight > 0 || h.claiming || len(h.queue) > 0 || h.robotsFetching {
			return false
		}
	}
	return true
}

// leases returns every claimed but undispatched lease (to release at stop).
func (s *scheduler) leases() []store.Lease {
	var out []store.Lease
	for _, h := range s.hosts {
		out = append(out, h.queue...)
		h.queue = nil
	}
	return out
}

// snapshot summarises host states for status reporting.
func (s *scheduler) snapshot(now time.Time) HostsSnapshot {
	var hs HostsSnapshot
	hs.Active = len(s.hosts)
	for _, h := range s.hosts {
		hs.InFlight += h.inflight
		if h.pausedUntil.After(now) {
			hs.BackingOff++
		} else if h.index >= 0 && h.readyAt.After(now) {
			hs.Throttled++
		}
	}
	return hs
}

// longestRunning returns up to n running fetches, the longest-running first.
func (s *scheduler) longestRunning(n int) []Running {
	out := make([]Running, 0, min(n, len(s.running)))
	for _, f := range s.running {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Running) int { return a.Since.Compare(b.Since) })
	return out[:min(n, len(out))]
}

// Running is a request under way.
type Running struct {
	URL   string
	Since time.Time
}

// HostsSnapshot counts hosts by state.
type HostsSnapshot struct {
	Active, InFlight, BackingOff, Throttled int
}
