// Package runner runs crawl jobs the same way for "crawler run" and for
// the jobs of "crawler serve": it opens the database a configuration
// names, seeds the frontier, records the run, runs the engine while
// watching its progress (pages per second, stalls), and returns what the
// final report is made of. Callers keep only what is theirs: flags and
// output for the command line, job state and HTTP for the service.
package runner

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

// DefaultGrace is how long in-flight fetches may finish when a run is
// stopped, unless the caller says otherwise (crawler run --grace, crawler
// serve --grace).
const DefaultGrace = 10 * time.Second

// DefaultStallAfter is how long no URL may complete while work remains
// before a run warns that it stalled (crawler run --stall-after).
const DefaultStallAfter = time.Minute

// Options configure a Run.
type Options struct {
	Log *slog.Logger
	// ConfigText is recorded with the run in the runs table, secrets
	// redacted (crawl.RedactConfigText); it may be empty.
	ConfigText string
	Metrics    *crawl.Metrics // receives the engine's Prometheus observations; may be nil
	// StallAfter is how long no URL may complete while work remains
	// before the run logs a warning saying why; 0 never warns.
	StallAfter time.Duration
	// UpdateSettings records the configuration's settings as the crawl's
	// when they differ from those recorded, instead of refusing the run.
	UpdateSettings bool
	// OnProgress, if set, is called about once a second while the engine
	// runs, on the run's own goroutine (never the engine's), so it may be
	// slow without slowing the crawl.
	OnProgress func(Progress)
	// FeedStdout is where feeds with path - write; nil discards them.
	FeedStdout io.Writer
}

// Run is one run of a crawl over an open database. Start prepares it,
// Crawl runs it; Progress may be called from any goroutine.
type Run struct {
	cfg          *crawl.Config
	db           Database
	eng          *crawl.Engine
	o            Options
	pagesAtStart int
	since        time.Time // when Start began, before seeding

	mu   sync.Mutex // guards last
	last Progress
}

// Start prepares a run of cfg over db: it checks cfg's settings against
// those the crawl recorded (a worker or a resumed run that would crawl
// something else is refused), builds the engine and seeds the frontier (seeds already known are left as they are, so starting again
// on a crawled database resumes it). The caller keeps db and closes it
// after the run.
func Start(ctx context.Context, cfg *crawl.Config, db Database, o Options) (*Run, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := db.RecordSettings(ctx, cfg.Settings(), o.UpdateSettings); err != nil {
		return nil, err
	}
	since := time.Now()
	pages, err := db.CountPages(ctx)
	if err != nil {
		return nil, err
	}
	eng, err := crawl.New(cfg, db, o.Log)
	if err != nil {
		return nil, err
	}
	eng.Metrics = o.Metrics
	eng.FeedStdout = o.FeedStdout
	if err := eng.Seed(ctx, nil); err != nil {
		return nil, err
	}
	return &Run{cfg: cfg, db: db, eng: eng, o: o, pagesAtStart: pages, since: since}, nil
}

// Progress returns the run's latest progress: zero before the engine first
// reports, the final state once Crawl has returned.
func (r *Run) Progress() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *Run) setProgress(p Progress) {
	r.mu.Lock()
	r.last = p
	r.mu.Unlock()
}

// Result is how a run ended: what the final report is made of.
type Result struct {
	Outcome        crawl.Outcome
	Stats          crawl.Stats // the engine's counters of this run
	Elapsed        time.Duration
	PagesPerSecond float64 // pages stored per second over the whole run
	PagesAtStart   int     // pages in the database when the run started
	// Since is when the run began, seeding included: seeds refused while
	// seeding count as this run's.
	Since time.Time
	// Totals are the database's headline numbers after the run; TotalsErr
	// says why they are missing.
	Totals    store.Totals
	TotalsErr error
}

// Crawl records the start of the run, runs the engine until the frontier
// is exhausted, a limit is reached or ctx is cancelled (then in-flight
// fetches get grace to finish and unfetched leases are released), and
// records how it ended. It returns the result with the engine's error,
// crawl.ErrInterrupted when ctx stopped it, or a *NothingFetchedError when
// the crawl finished without fetching anything because every seed was
// refused or skipped.
func (r *Run) Crawl(ctx context.Context, grace time.Duration) (*Result, error) {
	text := r.o.ConfigText
	if text != "" {
		text = crawl.RedactConfigText(text)
	}
	runID, err := r.db.StartRun(ctx, text)
	if err != nil {
		return &Result{Outcome: crawl.OutcomeFailed, TotalsErr: err}, err
	}
	m := &monitor{db: r.db, log: r.o.Log, rates: rateWindow{span: RateWindow}, stall: stallWatch{after: r.o.StallAfter},
		pagesAtStart: r.pagesAtStart, limit: r.cfg.Limits.MaxPages, totalTimeout: r.cfg.Fetch.TotalTimeout}
	m.rates.add(time.Now(), 0) // the run starts with no pages: a rate from the first report on
	// The engine hands its counters over without waiting: a report the
	// monitor has not taken yet is replaced by the newer one.
	updates := make(chan crawl.Stats, 1)
	r.eng.OnProgress = func(s crawl.Stats) {
		select {
		case <-updates:
		default:
		}
		updates <- s
	}
	watchCtx, stopWatching := context.WithCancel(context.WithoutCancel(ctx))
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		for {
			select {
			case <-watchCtx.Done():
				return
			case s := <-updates:
				p := m.observe(watchCtx, s, time.Now())
				r.setProgress(p)
				if r.o.OnProgress != nil {
					r.o.OnProgress(p)
				}
			}
		}
	}()
	outcome, runErr := r.eng.Run(ctx, grace)
	stopWatching()
	watcher.Wait()

	end := context.WithoutCancel(ctx)
	if err := r.db.EndRun(end, runID, string(outcome)); err != nil && runErr == nil {
		runErr = err
	}
	now := time.Now()
	st := r.eng.Snapshot()
	res := &Result{Outcome: outcome, Stats: st, Elapsed: now.Sub(st.Started), PagesAtStart: r.pagesAtStart, Since: r.since}
	res.PagesPerSecond = perSecond(st.Pages, res.Elapsed)
	res.Totals, res.TotalsErr = r.db.Totals(end)
	r.setProgress(m.final(st, res.Totals, res.TotalsErr == nil, now))
	if runErr == nil && outcome == crawl.OutcomeFinished {
		runErr = r.refusedSeeds(end, st.Pages)
	}
	return res, runErr
}
