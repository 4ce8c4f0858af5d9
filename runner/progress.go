package runner

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

// RateWindow is the span over which Progress.PagesPerSecond is measured.
const RateWindow = 10 * time.Second

// Progress is a run's state as the engine last reported it, with the
// measures every view of a run shows the same way.
type Progress struct {
	Stats   crawl.Stats // the engine's counters of this run
	Now     time.Time   // when the engine reported them
	Elapsed time.Duration
	// PagesPerSecond is the pages stored per second over the last
	// RateWindow; AvgPagesPerSecond since the run started.
	PagesPerSecond, AvgPagesPerSecond float64
	// Frontier holds the database's headline numbers, when FrontierKnown.
	Frontier      store.Totals
	FrontierKnown bool
	PagesAtStart  int // pages in the database when the run started
	Limit         int // limits.max_pages, 0 for none
}

// WaitingText says, when the crawl has nothing to do but wait for
// retries, how many and when the next is due: "waiting for 3 retries,
// next in 20s". It is "" otherwise.
func (p Progress) WaitingText() string {
	w := p.Stats.Waiting
	if w.URLs == 0 {
		return ""
	}
	what := fmt.Sprintf("%d retries", w.URLs)
	if w.URLs == 1 {
		what = "1 retry"
	}
	in := max(w.Next.Sub(p.Now), 0)
	if in >= time.Second {
		in = in.Round(time.Second)
	} else {
		in = in.Round(time.Millisecond)
	}
	return fmt.Sprintf("waiting for %s, next in %v", what, in)
}

// Total is the pages in the database, as counted against Limit.
func (p Progress) Total() int { return p.PagesAtStart + int(p.Stats.Pages) }

// ETA estimates the time until Limit pages at PagesPerSecond, or 0 when
// there is no limit or no rate to go by.
func (p Progress) ETA() time.Duration {
	left := p.Limit - p.Total()
	if p.Limit <= 0 || p.PagesPerSecond <= 0 || left <= 0 {
		return 0
	}
	return time.Duration(float64(left) / p.PagesPerSecond * float64(time.Second))
}

// perSecond is the one definition of a pages-per-second figure: pages
// over a span of time, 0 for an empty span.
func perSecond(pages int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(pages) / d.Seconds()
}

// Live is a run's progress as JSON: GET /status of "crawler run --listen"
// and "live" in the service's job detail.
type Live struct {
	Started           time.Time        `json:"started"`
	ElapsedSeconds    float64          `json:"elapsed_seconds"`
	Pages             int64            `json:"pages"`   // page rows stored this run
	Fetches           int64            `json:"fetches"` // HTTP responses received
	Failed            int64            `json:"failed"`  // URLs that failed
	Skipped           int64            `json:"skipped"`
	Retries           int64            `json:"retries"`
	Bytes             int64            `json:"bytes"`
	Dispatched        int              `json:"dispatched"`
	Uncommitted       int64            `json:"uncommitted"`
	PagesPerSecond    float64          `json:"pages_per_second"`     // over the last 10 s
	AvgPagesPerSecond float64          `json:"avg_pages_per_second"` // since the run started
	Errors            map[string]int64 `json:"errors"`               // failed requests by class
	Hosts             LiveHosts        `json:"hosts"`
	Revisits          int64            `json:"revisits"`     // fetches of URLs fetched before
	Unchanged         int64            `json:"unchanged"`    // of them, finding what was stored (304 or the same body)
	NotModified       int64            `json:"not_modified"` // of them, answered 304
	// SleepingUntil is when a continuous run that has nothing due wakes
	// up (when sleeping is set; absent when none is scheduled).
	Sleeping      bool       `json:"sleeping,omitempty"`
	SleepingUntil *time.Time `json:"sleeping_until,omitempty"`
	// Waiting says the crawl only waits for retries ("waiting for 3
	// retries, next in 20s"); absent otherwise.
	Waiting string `json:"waiting,omitempty"`
}

// LiveHosts count the hosts the scheduler holds, by state.
type LiveHosts struct {
	Active     int `json:"active"`
	InFlight   int `json:"in_flight"`
	Throttled  int `json:"throttled"`
	BackingOff int `json:"backing_off"`
}

// Live returns p as JSON fields.
func (p Progress) Live() Live {
	s := p.Stats
	l := Live{
		Started: s.Started, ElapsedSeconds: p.Elapsed.Seconds(), Pages: s.Pages, Fetches: s.Fetches, Failed: s.Errors,
		Skipped: s.Skipped, Retries: s.Retries, Bytes: s.Bytes, Dispatched: s.Dispatched, Uncommitted: s.Uncommitted,
		PagesPerSecond: round1(p.PagesPerSecond), AvgPagesPerSecond: round1(p.AvgPagesPerSecond),
		Errors: map[string]int64{}, Waiting: p.WaitingText(),
		Hosts: LiveHosts{Active: s.Hosts.Active, InFlight: s.Hosts.InFlight, Throttled: s.Hosts.Throttled, BackingOff: s.Hosts.BackingOff},
	}
	for _, c := range s.ErrorClasses.List() {
		l.Errors[c.Key()] = c.N
	}
	l.Revisits, l.Unchanged, l.NotModified = s.Revisits, s.Unchanged, s.NotModified
	if s.Sleeping {
		l.Sleeping = true
		if !s.WakeAt.IsZero() {
			at := s.WakeAt
			l.SleepingUntil = &at
		}
	}
	return l
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// monitor turns the engine's reports into Progress and watches for
// stalls. Only the run's watching goroutine uses it.
type monitor struct {
	db           Reader
	log          *slog.Logger
	rates        rateWindow
	stall        stallWatch
	pagesAtStart int
	limit        int
	totalTimeout time.Duration

	frontier      store.Totals
	frontierKnown bool
	waiting       crawl.RetryWait // the wait last logged
}

// observe takes the engine's counters at now: it reads the database's
// headline numbers, measures pages per second and, when nothing has
// completed for the stall threshold although work remains, logs why.
func (m *monitor) observe(ctx context.Context, s crawl.Stats, now time.Time) Progress {
	m.rates.add(now, s.Pages)
	if t, err := m.db.Totals(ctx); err == nil {
		m.frontier, m.frontierKnown = t, true
	} else if ctx.Err() == nil {
		m.log.Debug("progress: read totals", "err", err)
	}
	queued := -1
	if m.frontierKnown {
		queued = m.frontier.Queued
	}
	busy := queued > 0 || s.Hosts.InFlight > 0 || s.Uncommitted > 0
	if stalled, warn := m.stall.observe(now, s.Pages+s.Errors+s.Skipped, busy); warn {
		f := stallFacts{Stats: s, Queued: queued, Now: now, TotalTimeout: m.totalTimeout}
		if next, due, err := m.db.NextDue(ctx, now); err == nil {
			f.NextDue, f.DueNow = next, due
		}
		m.log.Warn("crawl stalled: no URL completed for "+stalled.Round(time.Second).String(), "why", diagnoseStall(f))
	}
	p := m.progress(s, now)
	if w := s.Waiting; w != m.waiting {
		m.waiting = w
		if w.URLs > 0 {
			m.log.Info(p.WaitingText())
		}
	}
	return p
}

// final is the progress at the end of the run.
func (m *monitor) final(s crawl.Stats, t store.Totals, known bool, now time.Time) Progress {
	m.rates.add(now, s.Pages)
	if known {
		m.frontier, m.frontierKnown = t, true
	}
	return m.progress(s, now)
}

func (m *monitor) progress(s crawl.Stats, now time.Time) Progress {
	p := Progress{Stats: s, Now: now, PagesPerSecond: m.rates.rate(), Frontier: m.frontier,
		FrontierKnown: m.frontierKnown, PagesAtStart: m.pagesAtStart, Limit: m.limit}
	if !s.Started.IsZero() {
		p.Elapsed = now.Sub(s.Started)
	}
	p.AvgPagesPerSecond = perSecond(s.Pages, p.Elapsed)
	return p
}

// rateWindow measures pages/s over the last span.
type rateWindow struct {
	span    time.Duration
	samples []rateSample // oldest first, bounded by add
}

type rateSample struct {
	t     time.Time
	pages int64
}

func (w *rateWindow) add(t time.Time, pages int64) {
	w.samples = append(w.samples, rateSample{t, pages})
	// Keep one sample at or beyond the span, so the window covers all of it.
	i := 0
	for i+1 < len(w.samples) && t.Sub(w.samples[i+1].t) >= w.span {
		i++
	}
	if len(w.samples)-i > 256 {
		i = len(w.samples) - 256
	}
	w.samples = append(w.samples[:0], w.samples[i:]...)
}

func (w *rateWindow) rate() float64 {
	if len(w.samples) < 2 {
		return 0
	}
	first, last := w.samples[0], w.samples[len(w.samples)-1]
	return perSecond(last.pages-first.pages, last.t.Sub(first.t))
}
