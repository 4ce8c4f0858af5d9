package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

// progressView is one frame of the progress display: everything it shows,
// gathered from the engine's stats, its Prometheus counters and the database.
type progressView struct {
	Elapsed  time.Duration
	Pages    int64 // stored this run
	Failed   int64
	Skipped  int64
	Retries  int64
	Bytes    int64
	Queued   int // waiting in the frontier; -1 when not known yet
	InFlight int
	Rate     float64 // pages/s over the last ~10 s
	AvgRate  float64 // pages/s since the start
	Errors   errorCounts
	Hosts    crawl.HostsSnapshot
	Limit    int // limits.max_pages, 0 for none
	Total    int // pages in the database, counted against Limit
}

// errorCounts are failed fetches by class, read from the Prometheus counters.
type errorCounts struct {
	HTTP4xx, HTTP5xx int64
	Fetch            map[string]int64 // by class: timeout, refused, reset, dns, unreachable, blocked, other
}

// fetchClasses orders the fetch error classes for display.
var fetchClasses = []string{"timeout", "refused", "reset", "dns", "unreachable", "blocked", "other"}

// fetchClass maps a crawler_fetch_errors_total reason to a short class.
func fetchClass(reason string) string {
	switch {
	case reason == "timeout":
		return "timeout"
	case reason == "connection refused":
		return "refused"
	case reason == "connection reset":
		return "reset"
	case strings.HasPrefix(reason, "dns"):
		return "dns"
	case reason == "host unreachable":
		return "unreachable"
	case reason == "blocked address":
		return "blocked"
	}
	return "other"
}

// gatherErrors reads the status class and fetch error counters from g.
func gatherErrors(g prometheus.Gatherer) (errorCounts, error) {
	ec := errorCounts{Fetch: map[string]int64{}}
	mfs, err := g.Gather()
	if err != nil {
		return ec, fmt.Errorf("gather metrics: %w", err)
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "crawler_http_requests_total":
			for _, m := range mf.GetMetric() {
				n := int64(m.GetCounter().GetValue())
				for _, l := range m.GetLabel() {
					switch {
					case l.GetName() == "code" && l.GetValue() == "4xx":
						ec.HTTP4xx += n
					case l.GetName() == "code" && l.GetValue() == "5xx":
						ec.HTTP5xx += n
					}
				}
			}
		case "crawler_fetch_errors_total":
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" {
						ec.Fetch[fetchClass(l.GetValue())] += int64(m.GetCounter().GetValue())
					}
				}
			}
		}
	}
	return ec, nil
}

// eta estimates the time until Limit pages, or 0 when there is no limit
// or no rate to go by.
func (v progressView) eta() time.Duration {
	if v.Limit <= 0 || v.Rate <= 0 {
		return 0
	}
	left := v.Limit - v.Total
	if left <= 0 {
		return 0
	}
	return time.Duration(float64(left) / v.Rate * float64(time.Second))
}

// lines renders the terminal display: one to three short lines.
func (v progressView) lines() []string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pages  %s/s (avg %s)", groupDigits(v.Pages), rate(v.Rate), rate(v.AvgRate))
	if v.Queued >= 0 {
		fmt.Fprintf(&b, "  %s queued", groupDigits(int64(v.Queued)))
	}
	fmt.Fprintf(&b, "  %d in flight  %s  %s", v.InFlight, megabytes(v.Bytes), clock(v.Elapsed))
	if v.Limit > 0 {
		fmt.Fprintf(&b, "  limit %d%%", min(100, v.Total*100/v.Limit))
		if d := v.eta(); d > 0 {
			fmt.Fprintf(&b, " ETA %s", clock(d))
		}
	}
	out := []string{b.String()}

	b.Reset()
	fmt.Fprintf(&b, "hosts %d active", v.Hosts.Active)
	if v.Hosts.Throttled > 0 {
		fmt.Fprintf(&b, ", %d throttled", v.Hosts.Throttled)
	}
	if v.Hosts.BackingOff > 0 {
		fmt.Fprintf(&b, ", %d backing off", v.Hosts.BackingOff)
	}
	if v.Skipped > 0 {
		fmt.Fprintf(&b, "  skipped %s", groupDigits(v.Skipped))
	}
	if v.Retries > 0 {
		fmt.Fprintf(&b, "  retries %s", groupDigits(v.Retries))
	}
	out = append(out, b.String())

	if classes := v.Errors.classes(); v.Failed > 0 || len(classes) > 0 {
		b.Reset()
		fmt.Fprintf(&b, "failed %s", groupDigits(v.Failed))
		if len(classes) > 0 {
			b.WriteString("  errors: ")
			for i, c := range classes {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s %s", c.name, groupDigits(c.n))
			}
		}
		out = append(out, b.String())
	}
	return out
}

type classCount struct {
	name string
	n    int64
}

// classes lists the non-zero error classes in display order.
func (e errorCounts) classes() []classCount {
	var out []classCount
	if e.HTTP4xx > 0 {
		out = append(out, classCount{"HTTP 4xx", e.HTTP4xx})
	}
	if e.HTTP5xx > 0 {
		out = append(out, classCount{"HTTP 5xx", e.HTTP5xx})
	}
	for _, c := range fetchClasses {
		if n := e.Fetch[c]; n > 0 {
			out = append(out, classCount{c, n})
		}
	}
	return out
}

// attrs renders the view as log attributes, for the plain progress line
// written when stderr is not a terminal.
func (v progressView) attrs() []any {
	a := []any{"pages", v.Pages, "pages_per_s", round1(v.Rate), "avg_pages_per_s", round1(v.AvgRate)}
	if v.Queued >= 0 {
		a = append(a, "queued", v.Queued)
	}
	a = append(a, "in_flight", v.InFlight, "mb", round1(float64(v.Bytes)/1e6), "failed", v.Failed)
	for _, c := range v.Errors.classes() {
		a = append(a, strings.ReplaceAll(strings.ToLower(c.name), " ", "_"), c.n)
	}
	a = append(a, "skipped", v.Skipped, "retries", v.Retries, "hosts", v.Hosts.Active,
		"throttled", v.Hosts.Throttled, "backing_off", v.Hosts.BackingOff, "elapsed", v.Elapsed.Round(time.Second))
	if d := v.eta(); d > 0 {
		a = append(a, "eta", d.Round(time.Second))
	}
	return a
}

func round1(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 1, 64), 64)
	return v
}

// groupDigits writes n with thousands separators: 1234567 -> "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func rate(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

func megabytes(b int64) string {
	if b < 1e6 {
		return fmt.Sprintf("%.0f kB", float64(b)/1e3)
	}
	if b < 1e9 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(b)/1e9)
}

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// rateWindow measures pages/s over the last few seconds.
type rateWindow struct {
	span    time.Duration
	samples []rateSample // oldest first, bounded by trim
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
	dt := last.t.Sub(first.t).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(last.pages-first.pages) / dt
}

// stallWatch notices when no URL has completed for a while although work
// remains.
type stallWatch struct {
	after      time.Duration
	completed  int64
	lastChange time.Time
	warnedAt   time.Time
}

// observe records the number of completed URLs at now and reports how long
// nothing has completed, and whether a warning is due: once after the
// threshold, then again after each further threshold.
func (w *stallWatch) observe(now time.Time, completed int64, busy bool) (time.Duration, bool) {
	if w.lastChange.IsZero() || completed != w.completed || !busy {
		w.completed, w.lastChange, w.warnedAt = completed, now, time.Time{}
		return 0, false
	}
	stalled := now.Sub(w.lastChange)
	if w.after <= 0 || stalled < w.after {
		return stalled, false
	}
	if !w.warnedAt.IsZero() && now.Sub(w.warnedAt) < w.after {
		return stalled, false
	}
	w.warnedAt = now
	return stalled, true
}

// stallFacts is what the stall diagnosis looks at.
type stallFacts struct {
	Stats        crawl.Stats
	Queued       int       // queued URLs in the frontier
	DueNow       int       // of them, due now
	NextDue      time.Time // earliest due time of a queued URL
	Now          time.Time
	TotalTimeout time.Duration
}

// diagnoseStall says why no URL completes although work remains.
func diagnoseStall(f stallFacts) string {
	h := f.Stats.Hosts
	// Workers count a fetch as uncommitted from the start, so outcomes
	// waiting for the writer are those beyond the fetches in flight.
	if waiting := f.Stats.Uncommitted - int64(h.InFlight); waiting > 0 {
		return fmt.Sprintf("%d outcomes are waiting for the database writer: the database is blocked "+
			"(another process holding a write transaction, or a slow or full disk)", waiting)
	}
	if h.Active > 0 && h.BackingOff == h.Active {
		return fmt.Sprintf("every active host (%d) is backing off after throttling (429/503) or connection failures; "+
			"\"crawler hosts\" shows each host's reason and pause", h.Active)
	}
	if h.InFlight > 0 {
		return fmt.Sprintf("%d fetches are in flight but none finishes: the servers are slow or drip their responses "+
			"(fetch.total_timeout %v ends each)", h.InFlight, f.TotalTimeout)
	}
	if f.Queued > 0 && f.DueNow == 0 && f.NextDue.After(f.Now) {
		return fmt.Sprintf("nothing is dispatchable: all %d queued URLs wait for their retry time; the next is due at %s (in %v)",
			f.Queued, f.NextDue.Format(time.TimeOnly), f.NextDue.Sub(f.Now).Round(time.Second))
	}
	if h.Active > 0 && h.Throttled+h.BackingOff == h.Active {
		return fmt.Sprintf("every active host (%d) waits for its rate limit or Crawl-delay", h.Active)
	}
	return fmt.Sprintf("%d URLs are queued but none is being fetched; see \"crawler status\" and \"crawler hosts\"", f.Queued)
}

// progress shows a crawl's progress on stderr and warns when it stalls.
// The engine calls update from its scheduler goroutine; everything slow
// (database queries, writing to a terminal) happens on progress's own
// goroutine, so a blocked terminal never stalls the crawl.
type progress struct {
	log          *slog.Logger
	gather       prometheus.Gatherer
	db           *store.DB
	every        time.Duration // plain mode: time between progress lines
	limit        int
	pagesAtStart int
	totalTimeout time.Duration

	updates chan crawl.Stats
	stop    context.CancelFunc
	wg      sync.WaitGroup

	mu    sync.Mutex // guards term, shown and frame
	term  io.Writer  // the terminal, nil for plain mode
	shown int        // lines of the display on screen
	frame string     // last frame drawn, redrawn after log records

	// Used only by the run goroutine.
	rates       rateWindow
	stall       stallWatch
	lastPlain   time.Time
	queued      int
	remainingAt time.Time
}

// progressConfig configures newProgress.
type progressConfig struct {
	Term         io.Writer // draw in place here; nil to log plain progress lines
	Every        time.Duration
	StallAfter   time.Duration
	Limit        int
	PagesAtStart int
	TotalTimeout time.Duration
}

// newProgress prepares a display; on a terminal, log records should go
// through its Logger so that they appear above the display.
func newProgress(log *slog.Logger, g prometheus.Gatherer, db *store.DB, c progressConfig) *progress {
	p := &progress{
		log: log, gather: g, db: db, every: c.Every, limit: c.Limit, pagesAtStart: c.PagesAtStart,
		totalTimeout: c.TotalTimeout, term: c.Term, updates: make(chan crawl.Stats, 1),
		rates: rateWindow{span: 10 * time.Second}, stall: stallWatch{after: c.StallAfter}, queued: -1,
	}
	if c.Term != nil {
		p.log = slog.New(&aboveDisplay{h: log.Handler(), p: p})
	}
	return p
}

// Logger returns the logger to use while the display is shown.
func (p *progress) Logger() *slog.Logger { return p.log }

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// start runs the display goroutine until Close.
func (p *progress) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.run(ctx)
	}()
}

// update hands fresh stats to the display without blocking: a frame the
// display has not taken yet is replaced. Only one goroutine may call it.
func (p *progress) update(s crawl.Stats) {
	select {
	case <-p.updates:
	default:
	}
	p.updates <- s
}

// Close stops the display and erases it from the terminal.
func (p *progress) Close() {
	if p.stop != nil {
		p.stop()
		p.wg.Wait()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.frame = ""
}

func (p *progress) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-p.updates:
			p.tick(ctx, s, time.Now())
		}
	}
}

// tick handles one stats update.
func (p *progress) tick(ctx context.Context, s crawl.Stats, now time.Time) {
	p.rates.add(now, s.Pages)
	if now.Sub(p.remainingAt) >= 2*time.Second {
		if q, _, err := p.db.Remaining(ctx); err == nil {
			p.queued, p.remainingAt = q, now
		} else if ctx.Err() == nil {
			p.log.Debug("progress: count queued URLs", "err", err)
		}
	}
	busy := p.queued > 0 || s.Hosts.InFlight > 0 || s.Uncommitted > 0
	if stalled, warn := p.stall.observe(now, s.Pages+s.Errors+s.Skipped, busy); warn {
		f := stallFacts{Stats: s, Queued: p.queued, Now: now, TotalTimeout: p.totalTimeout}
		if next, due, err := p.db.NextDue(ctx, now); err == nil {
			f.NextDue, f.DueNow = next, due
		}
		p.log.Warn("crawl stalled: no URL completed for "+stalled.Round(time.Second).String(), "why", diagnoseStall(f))
	}
	v := p.view(s, now)
	if p.term != nil {
		p.draw(strings.Join(v.lines(), "\n"))
		return
	}
	if p.lastPlain.IsZero() {
		p.lastPlain = s.Started // the first line one interval into the run
	}
	if now.Sub(p.lastPlain) >= p.every {
		p.lastPlain = now
		p.log.Info("progress", v.attrs()...)
	}
}

func (p *progress) view(s crawl.Stats, now time.Time) progressView {
	elapsed := now.Sub(s.Started)
	v := progressView{
		Elapsed: elapsed, Pages: s.Pages, Failed: s.Errors, Skipped: s.Skipped, Retries: s.Retries, Bytes: s.Bytes,
		Queued: p.queued, InFlight: s.Hosts.InFlight, Rate: p.rates.rate(), Hosts: s.Hosts,
		Limit: p.limit, Total: p.pagesAtStart + int(s.Pages),
	}
	if elapsed > 0 {
		v.AvgRate = float64(s.Pages) / elapsed.Seconds()
	}
	if p.gather != nil {
		if ec, err := gatherErrors(p.gather); err == nil {
			v.Errors = ec
		}
	}
	return v
}

// draw replaces the display with frame.
func (p *progress) draw(frame string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.frame = frame
	p.showLocked()
}

// clearLocked erases the display; the cursor ends where it began.
func (p *progress) clearLocked() {
	if p.term == nil || p.shown == 0 {
		return
	}
	seq := "\r"
	if p.shown > 1 {
		seq += fmt.Sprintf("\x1b[%dA", p.shown-1)
	}
	io.WriteString(p.term, seq+"\x1b[J")
	p.shown = 0
}

// showLocked writes the frame, leaving the cursor at the end of its last line.
func (p *progress) showLocked() {
	if p.term == nil || p.frame == "" {
		return
	}
	io.WriteString(p.term, p.frame)
	p.shown = strings.Count(p.frame, "\n") + 1
}

// aboveDisplay is a slog.Handler that erases the progress display before
// each record and draws it again after.
type aboveDisplay struct {
	h slog.Handler
	p *progress
}

func (a *aboveDisplay) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

func (a *aboveDisplay) Handle(ctx context.Context, r slog.Record) error {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	a.p.clearLocked()
	err := a.h.Handle(ctx, r)
	a.p.showLocked()
	return err
}

func (a *aboveDisplay) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &aboveDisplay{h: a.h.WithAttrs(attrs), p: a.p}
}

func (a *aboveDisplay) WithGroup(name string) slog.Handler {
	return &aboveDisplay{h: a.h.WithGroup(name), p: a.p}
}
