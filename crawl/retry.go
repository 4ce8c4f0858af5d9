package crawl

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// outage watches the database's availability for one engine: while a
// store call fails with store.ErrUnavailable it is down, the dispatch
// loop hands out no new fetch, and the call is retried with backoff until
// the database answers (or the call's context ends). It logs the outage
// once, then at most once per logEvery, and its end.
type outage struct {
	log      *slog.Logger
	down     atomic.Bool
	logEvery time.Duration
	maxWait  time.Duration
	now      func() time.Time // the clock (time.Now; tests drive their own)

	mu     sync.Mutex // guards since, logged
	since  time.Time  // when the outage began
	logged time.Time  // when it was last logged
}

func newOutage(log *slog.Logger) *outage {
	return &outage{log: log, logEvery: 10 * time.Second, maxWait: 5 * time.Second, now: time.Now}
}

// failed records a failure of what, and reports whether it is an outage
// to wait out.
func (o *outage) failed(what string, err error) bool {
	if !errors.Is(err, store.ErrUnavailable) {
		return false
	}
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.down.Load() {
		o.down.Store(true)
		o.since, o.logged = now, now
		o.log.Warn("database unavailable: dispatch paused, retrying until it answers", "op", what, "err", err)
	} else if now.Sub(o.logged) >= o.logEvery {
		o.logged = now
		o.log.Warn("database still unavailable, retrying", "op", what, "for", now.Sub(o.since).Round(time.Second), "err", err)
	}
	return true
}

// ok records that the database answered.
func (o *outage) ok() {
	if !o.down.Load() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down.Load() {
		o.down.Store(false)
		o.log.Info("database available again: dispatch resumes", "after", o.now().Sub(o.since).Round(time.Millisecond))
	}
}

// retry runs op until it succeeds, fails otherwise than with
// store.ErrUnavailable, or ctx ends, waiting between tries with a backoff
// that doubles from 50 ms up to maxWait.
func retry[T any](ctx context.Context, o *outage, what string, op func(context.Context) (T, error)) (T, error) {
	wait := 50 * time.Millisecond
	for {
		v, err := op(ctx)
		if err == nil {
			o.ok()
			return v, nil
		}
		if !o.failed(what, err) {
			return v, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		wait = min(wait*2, o.maxWait)
	}
}

// retryStore is the engine's store: every call that finds the database
// unavailable is retried until it answers. Each is safe to run again: a
// commit whose answer was lost is ignored as stale the second time (its
// leases are fenced), and the others set state rather than add to it, or
// take leases the caller has not seen yet (a claim or a host lease whose
// answer was lost returns to the queue when its lease runs out).
type retryStore struct {
	Store
	o *outage
}

func (r *retryStore) Add(ctx context.Context, urls []store.NewURL) (map[int64]int, error) {
	return retry(ctx, r.o, "add URLs", func(ctx context.Context) (map[int64]int, error) { return r.Store.Add(ctx, urls) })
}

func (r *retryStore) Recover(ctx context.Context) (int, error) {
	return retry(ctx, r.o, "recover", r.Store.Recover)
}

func (r *retryStore) SetInboundLinkIndex(ctx context.Context, on bool) error {
	_, err := retry(ctx, r.o, "inbound link index", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.SetInboundLinkIndex(ctx, on)
	})
	return err
}

func (r *retryStore) SetFullTextIndex(ctx context.Context, on bool) error {
	_, err := retry(ctx, r.o, "full-text index", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.SetFullTextIndex(ctx, on)
	})
	return err
}

func (r *retryStore) CountPages(ctx context.Context) (int, error) {
	return retry(ctx, r.o, "count pages", r.Store.CountPages)
}

func (r *retryStore) Pending(ctx context.Context) (int, time.Time, error) {
	type pending struct {
		n   int
		due time.Time
	}
	p, err := retry(ctx, r.o, "count pending", func(ctx context.Context) (pending, error) {
		n, due, err := r.Store.Pending(ctx)
		return pending{n, due}, err
	})
	return p.n, p.due, err
}

func (r *retryStore) StartWorker(ctx context.Context, hostname string, pid int, lease time.Duration) (int64, error) {
	return retry(ctx, r.o, "start worker", func(ctx context.Context) (int64, error) {
		return r.Store.StartWorker(ctx, hostname, pid, lease)
	})
}

func (r *retryStore) StopWorker(ctx context.Context) error {
	_, err := retry(ctx, r.o, "stop worker", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.StopWorker(ctx)
	})
	return err
}

func (r *retryStore) LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error) {
	return retry(ctx, r.o, "lease hosts", func(ctx context.Context) ([]store.HostRow, error) {
		return r.Store.LeaseHosts(ctx, q, ttl)
	})
}

func (r *retryStore) RenewHosts(ctx context.Context, held []store.HostToken, ttl time.Duration) (map[int64]time.Duration, error) {
	return retry(ctx, r.o, "renew host leases", func(ctx context.Context) (map[int64]time.Duration, error) {
		return r.Store.RenewHosts(ctx, held, ttl)
	})
}

func (r *retryStore) ReleaseHosts(ctx context.Context, held []store.HostRelease) error {
	_, err := retry(ctx, r.o, "release host leases", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.ReleaseHosts(ctx, held)
	})
	return err
}

func (r *retryStore) Claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error) {
	type claim struct {
		ls  []store.Lease
		due time.Time
	}
	c, err := retry(ctx, r.o, "claim", func(ctx context.Context) (claim, error) {
		ls, due, err := r.Store.Claim(ctx, h, n, lease)
		return claim{ls, due}, err
	})
	return c.ls, c.due, err
}

func (r *retryStore) Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error) {
	return retry(ctx, r.o, "commit", func(ctx context.Context) (store.CommitResult, error) {
		return r.Store.Commit(ctx, batch)
	})
}

func (r *retryStore) ReserveHosts(ctx context.Context, rs []store.HostReservation) error {
	_, err := retry(ctx, r.o, "reserve hosts", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.ReserveHosts(ctx, rs)
	})
	return err
}

func (r *retryStore) SaveHosts(ctx context.Context, hs []store.HostPoliteness) error {
	_, err := retry(ctx, r.o, "save hosts", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.SaveHosts(ctx, hs)
	})
	return err
}

func (r *retryStore) SaveRobots(ctx context.Context, hostID int64, rec store.RobotsRecord) error {
	_, err := retry(ctx, r.o, "save robots.txt", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.Store.SaveRobots(ctx, hostID, rec)
	})
	return err
}

func (r *retryStore) GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error) {
	return retry(ctx, r.o, "give up host", func(ctx context.Context) (int, error) {
		return r.Store.GiveUpHost(ctx, hostID, reason)
	})
}

func (r *retryStore) ClaimRevisits(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error) {
	type claim struct {
		ls  []store.Lease
		due time.Time
	}
	c, err := retry(ctx, r.o, "claim revisits", func(ctx context.Context) (claim, error) {
		ls, due, err := r.Store.ClaimRevisits(ctx, h, n, lease)
		return claim{ls, due}, err
	})
	return c.ls, c.due, err
}

func (r *retryStore) NextRevisit(ctx context.Context, now time.Time) (int, time.Time, error) {
	type next struct {
		hosts int
		at    time.Time
	}
	x, err := retry(ctx, r.o, "next revisit", func(ctx context.Context) (next, error) {
		n, at, err := r.Store.NextRevisit(ctx, now)
		return next{n, at}, err
	})
	return x.hosts, x.at, err
}

func (r *retryStore) ScheduleFetched(ctx context.Context, interval func(url string) time.Duration) (int, error) {
	return retry(ctx, r.o, "schedule fetched URLs", func(ctx context.Context) (int, error) {
		return r.Store.ScheduleFetched(ctx, interval)
	})
}

func (r *retryStore) NearDuplicate(ctx context.Context, hostID int64, h uint64, maxDist int, urlID int64) (store.NearMatch, bool, error) {
	type near struct {
		m  store.NearMatch
		ok bool
	}
	x, err := retry(ctx, r.o, "near-duplicate lookup", func(ctx context.Context) (near, error) {
		m, ok, err := r.Store.NearDuplicate(ctx, hostID, h, maxDist, urlID)
		return near{m, ok}, err
	})
	return x.m, x.ok, err
}
